import type { Metrics } from '../../ports/metrics.js';
import type { ClassifyUnavailable } from '../../ports/unavailable.js';

export interface ClosingRetriesOptions {
  readonly classify: ClassifyUnavailable;
  /** Whether an error is a COMMIT left without an answer, which may have committed. */
  readonly inDoubt: (error: unknown) => boolean;
  readonly log: {
    warn(fields: object, message: string): void;
    error(fields: object, message: string): void;
  };
  readonly metrics: Pick<Metrics, 'closingsWaiting' | 'closingRetried'>;
  /** How many closings are kept at most; one more is dropped and logged. */
  readonly capacity?: number;
  readonly firstDelayMs?: number;
  readonly maxDelayMs?: number;
}

/** How a kept closing's retry ended: `repeated` when the first try had committed after all. */
export type RetryOutcome = 'closed' | 'repeated';

interface Kept {
  readonly kind: 'settlement' | 'release';
  readonly retry: () => Promise<RetryOutcome>;
  delayMs: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Settlements and releases the database could not take (it was unreachable), kept in memory and
 * tried again with a growing delay until it answers. Without them, a request the provider served (a
 * stream already relayed, say) would never be charged, and its hold would stay on the balance until
 * the instance restarts. (Its client gets no `[DONE]` and no 200: it is answered after the COMMIT.)
 *
 * A closing's first try may have committed even though its answer was lost; every retry therefore
 * asks the ledger to check first (`again`), so a request is charged once. A settlement supersedes a
 * release of the same hold: a served request is charged, never only released.
 *
 * Kept in this process only: an instance killed during an outage loses what it kept, and its holds
 * come back to their accounts through the sweeper, uncharged (docs/scaling.md, failure cases).
 */
export class ClosingRetries {
  private readonly kept = new Map<string, Kept>();
  private readonly capacity: number;
  private readonly firstDelayMs: number;
  private readonly maxDelayMs: number;
  private closed = false;
  private dropLogged = false;

  constructor(private readonly options: ClosingRetriesOptions) {
    this.capacity = options.capacity ?? 10_000;
    this.firstDelayMs = options.firstDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 8_000;
  }

  /** Whether `error` is one a retry can mend: the database could not be reached. */
  mendable(error: unknown): boolean {
    return this.options.classify(error) === 'database_unreachable';
  }

  /** Whether `error` left a transaction that may have committed: a placement to undo, say. */
  inDoubt(error: unknown): boolean {
    return this.options.inDoubt(error);
  }

  /** Whether a settlement of this hold is kept, so that a release of it must not run. */
  settling(holdId: string): boolean {
    return this.kept.get(holdId)?.kind === 'settlement';
  }

  /** Keeps a closing whose first try met an unreachable database, to try again later. */
  keep(holdId: string, kind: Kept['kind'], retry: () => Promise<RetryOutcome>): void {
    const existing = this.kept.get(holdId);
    if (existing?.kind === 'settlement' && kind === 'release') return;
    if (existing) clearTimeout(existing.timer);
    else if (this.kept.size >= this.capacity || this.closed) {
      // Logged once until there is room again: an outage at full load must not flood the log.
      if (!this.dropLogged)
        this.options.log.error(
          { holdId, kind },
          'closing dropped: too many kept for retry, or shutting down',
        );
      this.dropLogged = true;
      this.options.metrics.closingRetried('dropped');
      return;
    }
    const entry: Kept = { kind, retry, delayMs: this.firstDelayMs, timer: undefined };
    this.kept.set(holdId, entry);
    this.options.metrics.closingsWaiting(this.kept.size);
    this.options.log.warn({ holdId, kind }, 'database unreachable: closing kept for retry');
    this.schedule(holdId, entry);
  }

  /** Stops retrying after one last try of everything kept; what still fails is logged, hold by hold. */
  async close(): Promise<void> {
    this.closed = true;
    const entries = [...this.kept];
    for (const [, entry] of entries) clearTimeout(entry.timer);
    await Promise.all(entries.map(([holdId, entry]) => this.attempt(holdId, entry, false)));
    const left = [...this.kept.keys()];
    if (left.length > 0)
      this.options.log.error(
        { holds: left },
        'closings still kept at shutdown: their holds come back uncharged when the sweeper returns them',
      );
  }

  private schedule(holdId: string, entry: Kept): void {
    // Jitter, so that every instance's kept closings do not arrive together when the database returns.
    const wait = entry.delayMs / 2 + Math.random() * (entry.delayMs / 2);
    entry.timer = setTimeout(() => void this.attempt(holdId, entry, true), wait);
    entry.timer.unref();
  }

  private async attempt(holdId: string, entry: Kept, rescheduled: boolean): Promise<void> {
    try {
      const outcome = await entry.retry();
      this.finish(holdId, entry, outcome);
    } catch (error) {
      if (this.kept.get(holdId) !== entry) return;
      if (this.mendable(error)) {
        if (!rescheduled || this.closed) return;
        entry.delayMs = Math.min(entry.delayMs * 2, this.maxDelayMs);
        this.schedule(holdId, entry);
        return;
      }
      this.options.log.error(
        { holdId, kind: entry.kind, reason: error instanceof Error ? error.message : String(error) },
        'closing dropped: its retry failed',
      );
      this.finish(holdId, entry, 'dropped');
    }
  }

  private finish(holdId: string, entry: Kept, outcome: RetryOutcome | 'dropped'): void {
    if (this.kept.get(holdId) !== entry) return;
    this.kept.delete(holdId);
    this.dropLogged = false;
    this.options.metrics.closingsWaiting(this.kept.size);
    this.options.metrics.closingRetried(outcome);
  }
}
