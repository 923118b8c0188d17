import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, type Migration, type MigrationProvider, Migrator, SqliteDialect } from 'kysely';
import { GroupCommit } from './group-commit.js';
import * as initial from './migrations/2026-11-24-initial.js';
import { withStatementCache } from './statement-cache.js';
import type { Database } from './tables.js';

/** Migrations are listed here rather than read from a folder, so the compiled build needs no file scan. */
const MIGRATIONS: Record<string, Migration> = {
  '2026-11-24-initial': initial,
};

const staticMigrations: MigrationProvider = { getMigrations: async () => MIGRATIONS };

export interface OpenDatabase {
  readonly db: Kysely<Database>;
  /**
   * The same connection, for the request-path adapters. Their writes run inside a transaction
   * that group commit keeps open for the rest of an event-loop turn, so Kysely must never open a
   * transaction of its own on this connection; no Kysely query in this codebase does.
   */
  readonly sqlite: SqliteDatabase.Database;
  /** Every write on the request path goes through this, on the same connection. */
  readonly writes: GroupCommit;
  close(): Promise<void>;
}

/**
 * Opens the SQLite database with WAL, so the CLI can write while the server runs, and
 * synchronous=NORMAL: a commit is durable against a crash of the process (the case that matters
 * for "a request the client saw complete is in the ledger"), and only an OS crash could lose the
 * last commits. busy_timeout lets a writer wait for another process's short transaction.
 */
export async function openSqlite(file: string): Promise<OpenDatabase> {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // 64 MiB of page cache: the ledger's indexes stay in memory instead of being re-read on every insert.
  sqlite.pragma('cache_size = -65536');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  const { error } = await new Migrator({ db, provider: staticMigrations }).migrateToLatest();
  if (error) {
    await db.destroy();
    throw error;
  }
  const writes = new GroupCommit(sqlite);
  return {
    db,
    sqlite,
    writes,
    close: async () => {
      writes.commit();
      await db.destroy();
    },
  };
}
