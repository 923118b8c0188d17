import type { Micros } from '../domain/money.js';

export interface HoldToPlace {
  readonly id: string;
  readonly accountId: string;
  readonly keyId: string;
  readonly requestId: string;
  readonly amount: Micros;
  readonly now: number;
  readonly expiresAt: number;
}

/** One request's outcome, written with its settlement or release. */
export interface UsageRecord {
  readonly requestId: string;
  readonly accountId: string;
  readonly keyId: string;
  readonly basePath: string;
  readonly model: string;
  /** The deployment that served (or was last tried): its provider and upstream model name. */
  readonly providerId: string;
  readonly upstreamModel: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** `upstream` when the provider reported usage; `estimated` for an interrupted or usage-less response. */
  readonly usageSource: 'upstream' | 'estimated' | 'none';
  readonly costMicros: Micros;
  readonly status: number;
  readonly latencyMs: number;
  readonly clientIp: string;
  readonly userAgent: string;
  readonly createdAt: number;
}

export type LedgerKind = 'credit' | 'hold' | 'settle' | 'release';

export interface LedgerEntry {
  readonly id: string;
  readonly accountId: string;
  readonly kind: LedgerKind;
  readonly amount: Micros;
  readonly holdId: string | null;
  readonly note: string | null;
  readonly createdAt: number;
}

/**
 * The append-only ledger. Every change of an account's available balance is an entry, written in
 * the same transaction as the balance, so the balance always equals the sum of the entries.
 * A hold subtracts its amount; a settlement subtracts the charge; the release gives the hold back.
 */
export interface Ledger {
  /** Prepaid credit not held by a request in flight; undefined for an unknown account. */
  available(accountId: string): Promise<Micros | undefined>;
  credit(entry: {
    id: string;
    accountId: string;
    amount: Micros;
    note: string;
    now: number;
  }): Promise<boolean>;
  /** Atomic: succeeds only if the available balance covers the amount at the moment of writing. */
  placeHold(hold: HoldToPlace): Promise<boolean>;
  /** Charges at most the held amount and releases the hold; false if the hold was no longer open. */
  settle(holdId: string, charge: Micros, usage: UsageRecord): Promise<boolean>;
  /** Gives the whole hold back; false if the hold was no longer open. */
  release(holdId: string, usage: UsageRecord | undefined, now: number): Promise<boolean>;
  /** Releases holds whose request died without settling (a crash, a hung upstream). */
  releaseExpired(now: number): Promise<number>;
  entries(accountId: string): Promise<LedgerEntry[]>;
}
