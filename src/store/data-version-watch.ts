import type { Database as BetterSqlite, Statement } from 'better-sqlite3';

/**
 * Tells the in-memory caches when another process (the CLI revoking a key, suspending an account,
 * adding credits) has committed to the database: SQLite's `PRAGMA data_version` changes exactly
 * then. It is read at most once per event-loop turn; requests that arrive in the same turn as a
 * commit are concurrent with it, and the next turn sees it.
 */
export class DataVersionWatch {
  private readonly query: Statement<[]>;
  private version: number;
  private checkedThisTurn = false;
  private readonly listeners: (() => void)[] = [];

  constructor(db: BetterSqlite) {
    this.query = db.prepare('PRAGMA data_version').pluck();
    this.version = this.query.get() as number;
  }

  /** Runs `listener` whenever another connection's commit is noticed. */
  onExternalChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Called before reading a cache: clears the caches if another process has written since. */
  check(): void {
    if (this.checkedThisTurn) return;
    this.checkedThisTurn = true;
    setImmediate(() => {
      this.checkedThisTurn = false;
    });
    const version = this.query.get() as number;
    if (version === this.version) return;
    this.version = version;
    for (const listener of this.listeners) listener();
  }
}
