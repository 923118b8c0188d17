import type { LimitsReport } from '../domain/account-limits.js';
import { shareOfLimits, type TierLimits } from '../domain/tiers.js';
import type { EndedRequest, LimitedRequest, LimiterDecision, RateLimiter } from '../ports/rate-limiter.js';
import type { Warn } from '../ports/system.js';

/** Whether the shared store answers right now (the Redis connection's health). */
export interface SharedHealth {
  isUp(): boolean;
}

export interface FailoverLog extends Warn {
  info(details: Record<string, unknown>, message: string): void;
}

type Mode = 'shared' | 'local';

/**
 * Limits shared by every instance while Redis answers; while it does not, each instance enforces
 * its share (the limit divided by `cluster.instances`) in memory, so that the instances together
 * still allow about the limit and never more. A request ends where it was admitted. The switch back
 * is automatic: the next request after Redis answers again is counted there.
 */
export class FailoverRateLimiter implements RateLimiter {
  /** Undefined until the first request: start-up, while Redis connects, is no transition to log. */
  private mode: Mode | undefined;
  /** Requests admitted locally and not yet ended: they end there too. */
  private readonly admittedLocally = new Set<string>();

  constructor(
    private readonly shared: RateLimiter,
    private readonly local: RateLimiter,
    private readonly health: SharedHealth,
    private readonly instances: number,
    private readonly log: FailoverLog,
  ) {}

  async admit(request: LimitedRequest): Promise<LimiterDecision> {
    if (this.health.isUp()) {
      try {
        const decision = await this.shared.admit(request);
        this.switchTo('shared');
        return decision;
      } catch (error) {
        this.switchTo('local', error);
      }
    } else {
      this.switchTo('local');
    }
    const decision = await this.local.admit({ ...request, limits: this.share(request.limits) });
    if (decision.ok) this.admittedLocally.add(request.leaseId);
    return decision;
  }

  async end(ended: EndedRequest): Promise<void> {
    if (this.admittedLocally.delete(ended.leaseId)) {
      await this.local.end({ ...ended, limits: this.share(ended.limits) });
      return;
    }
    try {
      await this.shared.end(ended);
    } catch {
      // Redis went away mid-request: its place lapses there with its lease, and tokens counted
      // at the ceiling stay counted until the window drains. Never fail the answer for it.
    }
  }

  async report(accountId: string, limits: TierLimits): Promise<LimitsReport> {
    if (this.health.isUp()) {
      try {
        return await this.shared.report(accountId, limits);
      } catch (error) {
        this.switchTo('local', error);
      }
    }
    return this.local.report(accountId, this.share(limits));
  }

  private share(limits: TierLimits): TierLimits {
    return shareOfLimits(limits, this.instances);
  }

  /** Logs once per transition, whichever request notices it first. */
  private switchTo(mode: Mode, error?: unknown): void {
    if (mode === this.mode) return;
    const first = this.mode === undefined;
    this.mode = mode;
    if (first && mode === 'shared') return;
    if (mode === 'local')
      this.log.warn(
        { dependency: 'redis', instances: this.instances, ...(error ? { err: String(error) } : {}) },
        `rate limits counted by this instance alone: each enforces 1/${this.instances} of every tier limit until Redis answers`,
      );
    else this.log.info({ dependency: 'redis' }, 'rate limits shared through Redis again');
  }
}
