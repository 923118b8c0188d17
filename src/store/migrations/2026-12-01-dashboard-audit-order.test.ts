import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KyselyAuditLog } from '../kysely-audit.js';
import { openSqlite } from '../open-database.js';
import * as initial from './2026-11-24-initial.js';
import * as waterfall from './2026-11-25-waterfall.js';
import * as dashboard from './2026-12-01-dashboard.js';

/** A SQLite database as the release before this migration left it, with events of one millisecond. */
async function databaseBeforeOrder(file: string): Promise<void> {
  const sqlite = new SqliteDatabase(file);
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) });
  const { error } = await new Migrator({
    db,
    provider: {
      getMigrations: async () => ({
        '2026-11-24-initial': initial,
        '2026-11-25-waterfall': waterfall,
        '2026-12-01-dashboard': dashboard,
      }),
    },
  }).migrateToLatest();
  if (error) throw error;
  const insert = sqlite.prepare(
    `INSERT INTO audit_events (id, account_id, at, actor_kind, action, target_type, target_id)
     VALUES (?, 'acct_1', 1000, 'cli', ?, 'key', 'key_1')`,
  );
  // Ids that sort against the order of writing.
  insert.run('aud_z', 'key.created');
  insert.run('aud_a', 'key.rotated');
  await db.destroy();
}

describe('the audit order migration on an existing SQLite database', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-audit-order-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the events written before it in their order, and numbers the new ones after them', async () => {
    const file = path.join(dir, 'tollgate.db');
    await databaseBeforeOrder(file);
    const database = await openSqlite(file);
    try {
      const log = new KyselyAuditLog(
        database.db,
        () => 1_000,
        () => 'aud_m',
      );
      await log.record({
        accountId: 'acct_1',
        actor: { kind: 'cli' },
        action: 'key.revoked',
        target: { type: 'key', id: 'key_1' },
      });
      expect((await log.list('acct_1', 10)).map((e) => e.action)).toEqual([
        'key.revoked',
        'key.rotated',
        'key.created',
      ]);
    } finally {
      await database.close();
    }
  });
});
