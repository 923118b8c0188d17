import {
  FULL_WINDOW,
  remainingInWindow,
  resetOfWindow,
  takeFromWindow,
  type WindowLimit,
  type WindowState,
} from './rate-window.js';
import type { TierLimits } from './tiers.js';

/**
 * An account's rate limits together: requests and tokens per minute and requests in flight. A
 * request is admitted only if every limit has room, and then takes from all of them at once, so a
 * refusal never spends anything. The Redis adapter's script applies these same steps atomically.
 */
export const MINUTE_MS = 60_000;

export type LimitDimension = 'requests' | 'tokens' | 'concurrent';

export interface AccountWindows {
  /** Each per-minute limit (see rate-window.ts). */
  readonly requests: WindowState;
  readonly tokens: WindowState;
  /** Requests admitted and not yet ended. */
  readonly inFlight: number;
}

export const FRESH_WINDOWS: AccountWindows = { requests: FULL_WINDOW, tokens: FULL_WINDOW, inFlight: 0 };

export type LimitsAdmission =
  | { readonly ok: true; readonly windows: AccountWindows }
  | {
      readonly ok: false;
      readonly exceeded: LimitDimension;
      /** Undefined when waiting cannot help: the request alone needs more than the whole limit. */
      readonly retryAfterMs: number | undefined;
    };

/** A request in flight gives no notice of when it ends: a refused client is told to retry in a second. */
export const CONCURRENT_RETRY_MS = 1_000;

export function perMinute(limit: number): WindowLimit {
  return { limit, windowMs: MINUTE_MS };
}

export function admitToLimits(
  limits: TierLimits,
  windows: AccountWindows,
  tokens: number,
  now: number,
): LimitsAdmission {
  if (limits.concurrentRequests !== undefined && windows.inFlight >= limits.concurrentRequests)
    return { ok: false, exceeded: 'concurrent', retryAfterMs: CONCURRENT_RETRY_MS };
  let { requests, tokens: tokenWindow } = windows;
  if (limits.requestsPerMinute !== undefined) {
    const taken = takeFromWindow(perMinute(limits.requestsPerMinute), requests, 1, now);
    if (!taken.ok) return { ok: false, exceeded: 'requests', retryAfterMs: taken.retryAfterMs };
    requests = taken.state;
  }
  if (limits.tokensPerMinute !== undefined) {
    const taken = takeFromWindow(perMinute(limits.tokensPerMinute), tokenWindow, tokens, now);
    if (!taken.ok) return { ok: false, exceeded: 'tokens', retryAfterMs: taken.retryAfterMs };
    tokenWindow = taken.state;
  }
  return { ok: true, windows: { requests, tokens: tokenWindow, inFlight: windows.inFlight + 1 } };
}

/** Where one per-minute limit stands, as OpenAI's headers report it. */
export interface WindowReport {
  readonly limit: number;
  readonly remaining: number;
  readonly resetMs: number;
}

export interface LimitsReport {
  readonly requests: WindowReport | undefined;
  readonly tokens: WindowReport | undefined;
}

export const NO_REPORT: LimitsReport = { requests: undefined, tokens: undefined };

function windowReport(limit: number | undefined, state: WindowState, now: number): WindowReport | undefined {
  if (limit === undefined) return undefined;
  const window = perMinute(limit);
  return {
    limit,
    remaining: remainingInWindow(window, state, now),
    resetMs: resetOfWindow(window, state, now),
  };
}

export function reportOf(limits: TierLimits, windows: AccountWindows, now: number): LimitsReport {
  return {
    requests: windowReport(limits.requestsPerMinute, windows.requests, now),
    tokens: windowReport(limits.tokensPerMinute, windows.tokens, now),
  };
}
