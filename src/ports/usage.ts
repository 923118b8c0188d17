import type { Micros } from '../domain/money.js';
import type { Pool } from '../domain/waterfall.js';

/** One request as recorded, for reports. */
export interface UsageRow {
  readonly keyId: string;
  readonly model: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costMicros: number;
  /** What each pool of the waterfall paid of the cost. */
  readonly pools: Partial<Record<Pool, Micros>>;
  readonly status: number;
  readonly createdAt: number;
  /** The provider reported more than the hold covered, and all of it was charged. */
  readonly overHold: boolean;
}

export interface UsageReader {
  forAccount(accountId: string, since: number): Promise<UsageRow[]>;
}
