import type { LimitDimension, LimitsReport } from '../domain/account-limits.js';
import type { TierLimits } from '../domain/tiers.js';

/** One request asking for room under its account's limits. */
export interface LimitedRequest {
  readonly accountId: string;
  readonly limits: TierLimits;
  /** The request's token ceiling: corrected to the real count when it ends. */
  readonly tokens: number;
  /** Names the request among those in flight, until `release`. */
  readonly leaseId: string;
}

export type LimiterDecision =
  | { readonly ok: true; readonly report: LimitsReport }
  | {
      readonly ok: false;
      readonly report: LimitsReport;
      readonly exceeded: LimitDimension;
      /** Undefined when waiting cannot help (the request alone is over the whole limit). */
      readonly retryAfterMs: number | undefined;
    };

/** A request that has ended, however it ended. */
export interface EndedRequest {
  readonly accountId: string;
  readonly limits: TierLimits;
  readonly leaseId: string;
  /** Real tokens minus the ceiling counted at admission: negative gives tokens back. */
  readonly tokensDelta: number;
}

/**
 * Counts requests, tokens and requests in flight per account: in memory for one instance, in Redis
 * across instances. Admission is atomic: a request takes room from every limit or from none.
 */
export interface RateLimiter {
  admit(request: LimitedRequest): Promise<LimiterDecision>;
  /**
   * The request has ended: its place among those in flight is free, and its tokens are corrected
   * to the real count (one step, so that a shared store is asked once).
   */
  end(ended: EndedRequest): Promise<void>;
  /** Where the account's limits stand, taking nothing: for answers refused before admission. */
  report(accountId: string, limits: TierLimits): Promise<LimitsReport>;
}
