import type { LimitsReport } from '../domain/account-limits.js';
import { shareOfLimits, type TierLimits } from '../domain/tiers.js';
import type { EndedRequest, LimitedRequest, LimiterDecision, RateLimiter } from '../ports/rate-limiter.js';
import type { Warn } from '../ports/system.js';

/** Whether the shared store answers right now (the Redis connection's health). */
export interface SharedHealth {
  isUp(): boolean;
  /** Told each time the shared store answers again after an outage. */
  on(event: 'up', listener: () => void): void;
}

/**
 * Ends the shared store could not be told of, kept until it answers again. Past this many, the
 * oldest is given up: its place lapses with its lease, as when its instance crashes.
 */
const MAX_UNRELEASED = 10_000;
/** How often an admission retries ends that failed while Redis seemed up. */
const RELEASE_RETRY_MS = 1_000;

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
  /**
   * Places taken in the shared store whose end it did not hear (it was down, or an admission's
   * answer was lost), by lease id: sent when it answers again, so that a blip does not leave an
   * account's places taken until their leases lapse (the longest request, half an hour by default).
   */
  private readonly unreleased = new Map<string, EndedRequest>();
  private releasing: Promise<void> | undefined;
  private lastReleaseAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly shared: RateLimiter,
    private readonly local: RateLimiter,
    private readonly health: SharedHealth,
    private readonly instances: number,
    private readonly log: FailoverLog,
  ) {
    health.on('up', () => void this.releaseUnreleased());
  }

  async admit(request: LimitedRequest): Promise<LimiterDecision> {
    if (this.health.isUp()) {
      // Before counting anew in the shared store, free what this instance still holds there: at
      // once after an outage, and at most once a second while some end keeps failing (one
      // command timed out with Redis otherwise healthy), so that admissions do not pay for it.
      if (
        this.unreleased.size > 0 &&
        (this.releasing || performance.now() - this.lastReleaseAt >= RELEASE_RETRY_MS)
      )
        await this.releaseUnreleased();
      try {
        const decision = await this.shared.admit(request);
        this.switchTo('shared');
        return decision;
      } catch (error) {
        // The script may have run and only its answer been lost: its place is freed later. Its
        // tokens stay counted there (stricter, never looser), since it may never have taken them.
        this.keepUnreleased({ ...request, tokensDelta: 0 });
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
      // Redis went away mid-request: the end is sent when it answers again. Never fail the
      // answer for it.
      this.keepUnreleased(ended);
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

  private keepUnreleased(ended: EndedRequest): void {
    this.unreleased.delete(ended.leaseId);
    if (this.unreleased.size >= MAX_UNRELEASED) {
      const oldest = this.unreleased.keys().next();
      if (!oldest.done) this.unreleased.delete(oldest.value);
    }
    this.unreleased.set(ended.leaseId, ended);
  }

  /** Sends the kept ends, once at a time; those that fail again wait for the next `up`. */
  private releaseUnreleased(): Promise<void> {
    this.releasing ??= this.sendUnreleased().finally(() => {
      this.releasing = undefined;
    });
    return this.releasing;
  }

  private async sendUnreleased(): Promise<void> {
    this.lastReleaseAt = performance.now();
    const pending = [...this.unreleased.values()];
    const results = await Promise.allSettled(pending.map((ended) => this.shared.end(ended)));
    let released = 0;
    results.forEach((result, i) => {
      const ended = pending[i];
      // A newer entry under the same lease (kept while this was in flight) stays.
      if (result.status === 'fulfilled' && ended && this.unreleased.get(ended.leaseId) === ended) {
        this.unreleased.delete(ended.leaseId);
        released++;
      }
    });
    if (released > 0)
      this.log.info(
        { dependency: 'redis', released },
        'freed the places of requests that ended while Redis was unreachable',
      );
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
