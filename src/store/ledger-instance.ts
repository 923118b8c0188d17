import type pg from 'pg';
import { DB_NOW } from './postgres-ledger-sql.js';

export interface InstanceTimings {
  /**
   * How long an instance may go without a heartbeat before it is taken for dead
   * (`cluster.instance_timeout_seconds`): longer than any stall of a live instance (a pause, a
   * database failover).
   */
  readonly timeoutMs: number;
  /**
   * The longest a request admitted by this instance may still run (providers' `timeouts.total_ms`):
   * its holds are returned only once every request that could use them has ended.
   */
  readonly longestRequestMs: number;
}

/** A hold or lease of an instance taken for dead, to be returned to its account. */
export interface Orphan {
  readonly holdId: string;
  readonly accountId: string;
}

/**
 * One instance's presence in the shared database, and the sweeper every instance runs.
 *
 * The instance heartbeats every timeout/5, on the database's clock. It stops admitting (`alive()`
 * turns false) once its last heartbeat is timeout/2 old: an instance cut off from the database
 * stops reserving money it could not account for. Its row says how long after its last heartbeat
 * its holds may be returned: the timeout plus the longest request it may be serving, so that no
 * request admitted before it fell silent can still be running, unsettled, when its hold goes back
 * to the account. What it had answered was committed before the answer, so nothing is lost either
 * way.
 *
 * Any instance sweeps: holds whose instance row is gone or past its expiry are returned, one by
 * one, each in a transaction of its own under the account's lock (the same path as a release), so
 * that two sweepers, or a sweeper and a late settlement, close each hold exactly once.
 */
export class LedgerInstance {
  private timer: NodeJS.Timeout | undefined;
  private lastBeatAt = Number.NEGATIVE_INFINITY;
  /** Since when heartbeats have followed each other without a gap that stopped admissions. */
  private unbrokenSince = Number.POSITIVE_INFINITY;
  private beating: Promise<void> | undefined;
  private sweeping: Promise<void> | undefined;
  /** The tasks whose last run failed: an outage is reported once, not at every tick. */
  private readonly failing = new Set<'heartbeat' | 'sweep'>();

  constructor(
    private readonly pool: pg.Pool,
    readonly id: string,
    private readonly timings: InstanceTimings,
    /** Returns one orphaned hold to its account; false if it was already closed. */
    private readonly returnOrphan: (orphan: Orphan) => Promise<boolean>,
    private readonly onError: (error: unknown, what: string) => void,
  ) {}

  get expiresAfterMs(): number {
    return this.timings.timeoutMs + this.timings.longestRequestMs;
  }

  /** Registers the instance and starts heartbeating and sweeping. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.floor(this.timings.timeoutMs / 5)));
    this.timer.unref();
  }

  /** False once the last heartbeat is half the timeout old: the instance then admits nothing. */
  alive(): boolean {
    return performance.now() - this.lastBeatAt < this.timings.timeoutMs / 2;
  }

  /**
   * Whether a credit lease taken at `since` (performance.now()) may still be held against: alive,
   * and no gap since then long enough to stop admissions. After such a gap the lease may have
   * been swept back to its account, even if this instance beats again.
   */
  vouchesSince(since: number): boolean {
    return this.alive() && this.unbrokenSince <= since;
  }

  /** Stops heartbeating and sweeping, as a crash would; the row stays for the others to sweep. */
  halt(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops, then removes the instance's row if it holds nothing any more. */
  async stop(): Promise<void> {
    this.halt();
    await this.beating;
    await this.sweeping;
    await this.pool.query({
      name: 'tg_instance_leave',
      text: `DELETE FROM ledger_instances i WHERE id = $1
                AND NOT EXISTS (SELECT 1 FROM ledger_holds h WHERE h.instance_id = i.id)`,
      values: [this.id],
    });
  }

  /** Returns every orphaned hold found now, in rounds of 100; how many were returned. */
  async sweep(): Promise<number> {
    let returned = 0;
    for (let round = 0; round < 100; round++) {
      const { rows } = await this.pool.query<{ id: string; account_id: string }>({
        name: 'tg_instance_orphans',
        text: `SELECT h.id, h.account_id FROM ledger_holds h
                 LEFT JOIN ledger_instances i ON i.id = h.instance_id
                WHERE i.id IS NULL OR i.heartbeat_at + i.expires_after_ms < ${DB_NOW}
                LIMIT 100`,
      });
      for (const row of rows)
        if (await this.returnOrphan({ holdId: row.id, accountId: row.account_id })) returned++;
      if (rows.length < 100) break;
    }
    await this.pool.query({
      name: 'tg_instance_forget_dead',
      text: `DELETE FROM ledger_instances i WHERE i.heartbeat_at + i.expires_after_ms < ${DB_NOW}
                AND NOT EXISTS (SELECT 1 FROM ledger_holds h WHERE h.instance_id = i.id)`,
    });
    return returned;
  }

  private tick(): void {
    const interval = Math.floor(this.timings.timeoutMs / 5);
    this.beating ??= bounded(this.beat(), interval, 'the heartbeat')
      .then(
        () => {
          this.failing.delete('heartbeat');
        },
        (error) => this.failed(error, 'heartbeat'),
      )
      .finally(() => {
        this.beating = undefined;
      });
    this.sweeping ??= bounded(this.sweep(), this.timings.timeoutMs, 'the sweep')
      .then(
        () => {
          this.failing.delete('sweep');
        },
        (error) => this.failed(error, 'sweep'),
      )
      .finally(() => {
        this.sweeping = undefined;
      });
  }

  private failed(error: unknown, what: 'heartbeat' | 'sweep'): void {
    if (this.failing.has(what)) return;
    this.failing.add(what);
    this.onError(error, what);
  }

  /**
   * Writes the heartbeat; an instance swept while it was cut off comes back under the same id (its
   * holds were returned, and its settlements then charge as for a hold no longer open).
   */
  private async beat(): Promise<void> {
    const sentAt = performance.now();
    await this.pool.query({
      name: 'tg_instance_beat',
      text: `INSERT INTO ledger_instances (id, started_at, heartbeat_at, expires_after_ms)
             VALUES ($1, ${DB_NOW}, ${DB_NOW}, $2)
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at,
                                            expires_after_ms = EXCLUDED.expires_after_ms`,
      values: [this.id, this.expiresAfterMs],
    });
    if (sentAt - this.lastBeatAt >= this.timings.timeoutMs / 2) this.unbrokenSince = sentAt;
    this.lastBeatAt = Math.max(this.lastBeatAt, sentAt);
  }
}

/**
 * Rejects once `ms` have passed without an answer, so that a query hanging on a connection cut off
 * without a reset (a partition: TCP may take minutes to give up) does not stop the next heartbeat,
 * which takes another connection.
 */
function bounded<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} had no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
