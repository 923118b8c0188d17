/** One request as recorded, for reports. */
export interface UsageRow {
  readonly keyId: string;
  readonly model: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costMicros: number;
  readonly status: number;
  readonly createdAt: number;
}

export interface UsageReader {
  forAccount(accountId: string, since: number): Promise<UsageRow[]>;
}
