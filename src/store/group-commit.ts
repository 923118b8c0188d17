import type { Database as BetterSqlite } from 'better-sqlite3';

/**
 * Group commit for SQLite. Writes run at once, synchronously, inside a transaction that stays open
 * until the event loop has finished its current turn; then one COMMIT covers every request that
 * wrote in that turn. A commit is the expensive part of a write (measured here: about 100 µs,
 * against 3-8 µs a statement), so under load hundreds of requests share one.
 *
 * Durability is not traded away: a caller that must not answer before its write is on disk (a
 * settlement) awaits `durable()`, which resolves only after the COMMIT that contains it. What the
 * open transaction can lose in a crash is only what no client has been told about yet.
 *
 * Each unit of work runs in its own SAVEPOINT, so a unit that throws undoes only its own writes.
 */
export class GroupCommit {
  private open = false;
  private waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(private readonly db: BetterSqlite) {}

  run<T>(work: () => T): T {
    if (!this.open) {
      // IMMEDIATE takes the write lock now, so another process's writer waits (busy_timeout) instead of failing later.
      this.db.exec('BEGIN IMMEDIATE');
      this.open = true;
      setImmediate(() => this.commit());
    }
    this.db.exec('SAVEPOINT unit');
    try {
      const result = work();
      this.db.exec('RELEASE unit');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK TO unit');
      this.db.exec('RELEASE unit');
      throw error;
    }
  }

  /** Resolves once everything run so far is committed. */
  durable(): Promise<void> {
    if (!this.open) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Commits now; called by the event loop after each turn, and before the database closes. */
  commit(): void {
    if (!this.open) return;
    const waiters = this.waiters;
    this.waiters = [];
    this.open = false;
    try {
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    for (const waiter of waiters) waiter.resolve();
  }
}
