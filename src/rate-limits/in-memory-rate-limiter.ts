import {
  type AccountWindows,
  admitToLimits,
  FRESH_WINDOWS,
  type LimitsReport,
  MINUTE_MS,
  perMinute,
  reportOf,
} from '../domain/account-limits.js';
import { correctWindow, FULL_WINDOW, type WindowState } from '../domain/rate-window.js';
import type { TierLimits } from '../domain/tiers.js';
import type { EndedRequest, LimitedRequest, LimiterDecision, RateLimiter } from '../ports/rate-limiter.js';
import type { Clock } from '../ports/system.js';

interface AccountState {
  requests: WindowState;
  tokens: WindowState;
  /** Lease id → when it lapses, should a release never come. */
  readonly leases: Map<string, number>;
}

/** Past this many accounts, those whose limits are full and idle are forgotten (they read as fresh). */
const SWEEP_ABOVE_ACCOUNTS = 10_000;

/**
 * The limits of one instance, in memory: exact for a single instance, and the per-instance share
 * of each limit while Redis is down. JavaScript runs one admission at a time, so no lock is needed.
 */
export class InMemoryRateLimiter implements RateLimiter {
  private readonly accounts = new Map<string, AccountState>();
  private sweptAt = 0;

  constructor(
    private readonly clock: Clock,
    /** How long a lease counts if its request never ends (a bug): the longest a request may run. */
    private readonly leaseMs: number,
  ) {}

  async admit(request: LimitedRequest): Promise<LimiterDecision> {
    const now = this.clock.now();
    // At most once a minute: with many active accounts a sweep per request would cost O(accounts).
    if (this.accounts.size > SWEEP_ABOVE_ACCOUNTS && now - this.sweptAt >= MINUTE_MS) this.sweep(now);
    const state = this.stateOf(request.accountId, now);
    const windows = this.windowsOf(state);
    const decision = admitToLimits(request.limits, windows, request.tokens, now);
    if (!decision.ok)
      return {
        ok: false,
        report: reportOf(request.limits, windows, now),
        exceeded: decision.exceeded,
        retryAfterMs: decision.retryAfterMs,
      };
    state.requests = decision.windows.requests;
    state.tokens = decision.windows.tokens;
    if (request.limits.concurrentRequests !== undefined)
      state.leases.set(request.leaseId, now + this.leaseMs);
    return { ok: true, report: reportOf(request.limits, decision.windows, now) };
  }

  async end(ended: EndedRequest): Promise<void> {
    const state = this.accounts.get(ended.accountId);
    if (!state) return;
    state.leases.delete(ended.leaseId);
    const { tokensPerMinute } = ended.limits;
    if (tokensPerMinute === undefined || ended.tokensDelta === 0) return;
    const now = this.clock.now();
    state.tokens = correctWindow(perMinute(tokensPerMinute), state.tokens, ended.tokensDelta, now);
  }

  async report(accountId: string, limits: TierLimits): Promise<LimitsReport> {
    const now = this.clock.now();
    const state = this.accounts.get(accountId);
    return reportOf(limits, state ? this.windowsOf(state) : FRESH_WINDOWS, now);
  }

  private stateOf(accountId: string, now: number): AccountState {
    let state = this.accounts.get(accountId);
    if (!state) {
      state = { requests: FULL_WINDOW, tokens: FULL_WINDOW, leases: new Map() };
      this.accounts.set(accountId, state);
    }
    for (const [id, lapses] of state.leases) if (lapses <= now) state.leases.delete(id);
    return state;
  }

  private windowsOf(state: AccountState): AccountWindows {
    return { requests: state.requests, tokens: state.tokens, inFlight: state.leases.size };
  }

  private sweep(now: number): void {
    this.sweptAt = now;
    for (const [id, state] of this.accounts) {
      // A minute after its last use, any per-minute limit has drained: the state is a fresh one.
      const idle = Math.max(state.requests.at, state.tokens.at) + MINUTE_MS <= now;
      if (state.leases.size === 0 && idle) this.accounts.delete(id);
    }
  }
}
