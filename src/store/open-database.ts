import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
} from 'kysely';
import type pg from 'pg';
import type { DatabaseConfig } from '../config/database-url.js';
import type { DatabaseKind } from './database-kind.js';
import * as initial from './migrations/2026-11-24-initial.js';
import * as waterfall from './migrations/2026-11-25-waterfall.js';
import * as settlementJournal from './migrations/2026-11-30-settlement-journal.js';
import * as accountTier from './migrations/2026-12-01-account-tier.js';
import * as cacheTokens from './migrations/2026-12-01-cache-tokens.js';
import * as clusterLedger from './migrations/2026-12-01-cluster-ledger.js';
import * as creditLeases from './migrations/2026-12-01-credit-leases.js';
import * as dashboard from './migrations/2026-12-01-dashboard.js';
import * as auditOrder from './migrations/2026-12-01-dashboard-audit-order.js';
import * as prepaidDebt from './migrations/2026-12-01-prepaid-debt.js';
import * as requestOutcome from './migrations/2026-12-01-request-outcome.js';
import { postgresPool } from './postgres-pool.js';
import { withStatementCache } from './statement-cache.js';
import type { Database } from './tables.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time (Kysely<any>).
type MigrationModule = { up(db: Kysely<any>, kind: DatabaseKind): Promise<void> };

/** Migrations are listed here rather than read from a folder, so the compiled build needs no file scan. */
const MIGRATIONS: Record<string, MigrationModule> = {
  '2026-11-24-initial': initial,
  '2026-11-25-waterfall': waterfall,
  '2026-11-30-settlement-journal': settlementJournal,
  '2026-12-01-cache-tokens': cacheTokens,
  '2026-12-01-dashboard': dashboard,
  '2026-12-01-prepaid-debt': prepaidDebt,
  '2026-12-01-request-outcome': requestOutcome,
  '2026-12-01-dashboard-audit-order': auditOrder,
  '2026-12-01-account-tier': accountTier,
  '2026-12-01-cluster-ledger': clusterLedger,
  '2026-12-01-credit-leases': creditLeases,
};

/** Each migration is told which database it runs on, for the few statements that differ. */
function migrationsFor(kind: DatabaseKind): MigrationProvider {
  const migrations: Record<string, Migration> = {};
  for (const [name, module] of Object.entries(MIGRATIONS))
    migrations[name] = { up: (db) => module.up(db, kind) };
  return { getMigrations: async () => migrations };
}

/** Whether the database answers and holds every migration: what /readyz reports. */
export type Readiness = { readonly ok: true } | { readonly ok: false; readonly reason: string };

interface OpenDatabaseParts {
  readonly db: Kysely<Database>;
  ready(): Promise<Readiness>;
  close(): Promise<void>;
}

export interface OpenSqlite extends OpenDatabaseParts {
  readonly kind: 'sqlite';
  /** The same connection, for the request-path adapters, which use better-sqlite3 directly. */
  readonly sqlite: SqliteDatabase.Database;
  readonly pg?: undefined;
}

export interface OpenPostgres extends OpenDatabaseParts {
  readonly kind: 'postgres';
  /** The pool Kysely queries through, for the request-path adapters' prepared statements. */
  readonly pg: pg.Pool;
  readonly sqlite?: undefined;
}

export type OpenDatabase = OpenSqlite | OpenPostgres;

/** Opens the database the configuration names and applies every migration it lacks. */
export function openDatabase(database: DatabaseConfig): Promise<OpenDatabase> {
  return database.kind === 'sqlite'
    ? openSqlite(database.path)
    : openPostgres(database.url, database.poolSize);
}

async function migrate(db: Kysely<Database>, kind: DatabaseKind): Promise<void> {
  const { error } = await new Migrator({
    db,
    provider: migrationsFor(kind),
    // Migrations are independent (each adds its own tables or columns) and arrive from parallel
    // branches: one named before a migration a database already ran must still run there.
    allowUnorderedMigrations: true,
  }).migrateToLatest();
  if (error) {
    await db.destroy();
    throw error;
  }
}

const READY_TIMEOUT_MS = 2_000;

async function readiness(db: Kysely<Database>): Promise<Readiness> {
  const check = async (): Promise<Readiness> => {
    const { rows } = await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(db);
    const applied = new Set(rows.map((row) => row.name));
    const missing = Object.keys(MIGRATIONS).filter((name) => !applied.has(name));
    return missing.length === 0
      ? { ok: true }
      : { ok: false, reason: `migrations not applied: ${missing.join(', ')}` };
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Readiness>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, reason: `the database did not answer within ${READY_TIMEOUT_MS} ms` }),
      READY_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([check(), timeout]);
  } catch (error) {
    // The code only (ECONNREFUSED, 57P01, …): /readyz answers whoever reaches it, and a driver's
    // message may name internal hosts and users.
    const code = (error as { code?: unknown }).code;
    return {
      ok: false,
      reason: `the database did not answer (${typeof code === 'string' ? code : (error as Error).name})`,
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A pool of `poolSize` connections. Kysely's migrator takes a PostgreSQL advisory lock
 * (pg_advisory_lock) around the pending migrations and applies them in one transaction, so
 * instances starting together apply each migration once, and the others wait, then find nothing
 * to do.
 */
export async function openPostgres(url: string, poolSize: number): Promise<OpenPostgres> {
  const pool = postgresPool(url, poolSize);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  await migrate(db, 'postgres');
  return {
    kind: 'postgres',
    db,
    pg: pool,
    ready: () => readiness(db),
    close: () => db.destroy(),
  };
}

/**
 * The database holds every key's hash and every account's money: the directory is created 0700 and
 * the file 0600 before SQLite opens it, and SQLite gives the -wal and -shm files it creates the
 * database's own mode. Existing files and directories keep the mode they have.
 */
function createPrivately(file: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
}

/**
 * Opens the SQLite database with WAL, so the CLI can write while the server runs, and
 * synchronous=NORMAL: a commit is durable against a crash of the process (the case that matters
 * for "a request the client saw complete is in the ledger"), and only an OS crash could lose the
 * last commits. busy_timeout lets a writer wait for another process's short transaction.
 */
export async function openSqlite(file: string): Promise<OpenSqlite> {
  if (file !== ':memory:') createPrivately(file);
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // 64 MiB of page cache: the ledger's indexes stay in memory instead of being re-read on every insert.
  sqlite.pragma('cache_size = -65536');
  // Checkpoint every 10000 WAL pages (about 40 MiB) instead of SQLite's 1000. A checkpoint runs
  // inside the commit that crosses the threshold and costs that request 2–5 ms here (two fsyncs), in
  // rare cases more; one request a commit (a single client) crossed 1000 pages about 9 times a
  // second, which alone put the p99 at one connection near 3 ms. Measured with one connection:
  // requests over 1.5 ms fell from about 22 to 12 a second, p99 from 2.7–3.1 to 1.2–1.3 ms; no
  // change at full load. The WAL file is reused from its start after each checkpoint.
  sqlite.pragma('wal_autocheckpoint = 10000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  await migrate(db, 'sqlite');
  return { kind: 'sqlite', db, sqlite, ready: () => readiness(db), close: () => db.destroy() };
}
