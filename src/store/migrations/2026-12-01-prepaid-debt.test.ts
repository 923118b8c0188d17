import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../open-database.js';
import * as initial from './2026-11-24-initial.js';
import * as waterfall from './2026-11-25-waterfall.js';
import * as settlementJournal from './2026-11-30-settlement-journal.js';

/** A database as the release before this migration left it, with an account and rows pointing at it. */
async function databaseBeforeDebts(file: string): Promise<void> {
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) });
  const migrator = new Migrator({
    db,
    provider: {
      getMigrations: async () => ({
        '2026-11-24-initial': initial,
        '2026-11-25-waterfall': waterfall,
        '2026-11-30-settlement-journal': settlementJournal,
      }),
    },
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
  sqlite
    .prepare(
      `INSERT INTO accounts (id, email, status, available_micros, created_at, auto_topup_enabled,
         auto_topup_threshold_micros, auto_topup_amount_micros)
       VALUES ('acct_old', 'old@example.com', 'active', 1234, 1, 1, 500, 2500)`,
    )
    .run();
  sqlite
    .prepare(
      `INSERT INTO api_keys (id, account_id, name, type, hash, hint, created_at)
       VALUES ('key_old', 'acct_old', 'k', 'inference', 'hash', 'hint', 1)`,
    )
    .run();
  sqlite
    .prepare(
      `INSERT INTO ledger_entries (id, account_id, kind, pool, amount_micros, created_at, period_at)
       VALUES ('led_old', 'acct_old', 'credit', 'prepaid', 1234, 1, 1)`,
    )
    .run();
  sqlite
    .prepare(
      `INSERT INTO usage_records (request_id, account_id, key_id, base_path, model, provider_id,
         upstream_model, prompt_tokens, completion_tokens, usage_source, cost_micros, status,
         latency_ms, client_ip, user_agent, created_at)
       VALUES ('req_old', 'acct_old', 'key_old', '/v1', 'm', 'p', 'u', 1, 1, 'upstream', 1001, 200, 1, '', '', 1)`,
    )
    .run();
  await db.destroy();
}

describe('the prepaid debt migration', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-migration-'));
    file = path.join(dir, 'tollgate.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lets a balance go below zero and keeps every account, reference and constraint', async () => {
    await databaseBeforeDebts(file);
    const database = await openSqlite(file);
    const { sqlite } = database;
    try {
      // Every value kept; later migrations may add columns beside them.
      expect(sqlite.prepare("SELECT * FROM accounts WHERE id = 'acct_old'").get()).toMatchObject({
        id: 'acct_old',
        email: 'old@example.com',
        status: 'active',
        available_micros: 1234,
        created_at: 1,
        auto_topup_enabled: 1,
        auto_topup_threshold_micros: 500,
        auto_topup_amount_micros: 2500,
      });
      sqlite.prepare("UPDATE accounts SET available_micros = -5000 WHERE id = 'acct_old'").run();
      expect(
        sqlite.prepare("SELECT available_micros FROM accounts WHERE id = 'acct_old'").pluck().get(),
      ).toBe(-5000);

      expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(sqlite.pragma('foreign_key_check')).toEqual([]);
      // The keys and ledger entries still reference the accounts table, and it is still enforced.
      expect(() =>
        sqlite
          .prepare(
            `INSERT INTO api_keys (id, account_id, name, type, hash, hint, created_at)
             VALUES ('key_orphan', 'acct_missing', 'k', 'inference', 'hash2', 'hint', 1)`,
          )
          .run(),
      ).toThrow(/FOREIGN KEY/);
      expect(() =>
        sqlite
          .prepare(
            `INSERT INTO accounts (id, email, status, available_micros, created_at)
             VALUES ('acct_twin', 'old@example.com', 'active', 0, 1)`,
          )
          .run(),
      ).toThrow(/UNIQUE/);
      expect(
        sqlite.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'accounts_%'").pluck().get(),
      ).toBe(0);

      expect(
        sqlite.prepare("SELECT over_hold FROM usage_records WHERE request_id = 'req_old'").get(),
      ).toEqual({ over_hold: 0 });
    } finally {
      await database.close();
    }
  });

  it('creates a new database with debts allowed from the start', async () => {
    const database = await openSqlite(file);
    try {
      const created = database.sqlite
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'accounts'")
        .pluck()
        .get() as string;
      expect(created).not.toMatch(/check/i);
    } finally {
      await database.close();
    }
  });
});
