import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlite } from './open-database.js';

let dir: string | undefined;

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const modeOf = (file: string) => (statSync(file).mode & 0o777).toString(8);

describe('the database files', () => {
  it('are readable by their owner only: the directory 0700, the database, -wal and -shm 0600', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-modes-'));
    const file = path.join(dir, 'data', 'tollgate.db');
    // Whatever the umask lets through by default (022 gives 0755 and 0644).
    const umask = process.umask(0o022);
    try {
      const database = await openSqlite(file);
      expect(modeOf(path.dirname(file))).toBe('700');
      for (const name of [file, `${file}-wal`, `${file}-shm`])
        expect([name, modeOf(name)]).toEqual([name, '600']);
      await database.close();
    } finally {
      process.umask(umask);
    }
  });
});

describe('a transaction through Kysely', () => {
  it('takes the write lock when it begins, so a write after its first read is never refused as busy', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-begin-'));
    const file = path.join(dir, 'tollgate.db');
    const database = await openSqlite(file);
    // Another process (the server beside a CLI command), which does not wait for locks.
    const other = new SqliteDatabase(file);
    other.pragma('busy_timeout = 0');
    const otherWrite = () => other.prepare("UPDATE accounts SET status = 'other' WHERE id = 'nobody'").run();
    try {
      let otherRefused = false;
      await database.db.transaction().execute(async (trx) => {
        await sql`SELECT COUNT(*) FROM accounts`.execute(trx);
        try {
          otherWrite();
        } catch {
          otherRefused = true;
        }
        await sql`UPDATE accounts SET status = 'mine' WHERE id = 'nobody'`.execute(trx);
      });
      expect(otherRefused).toBe(true);
      expect(() => otherWrite()).not.toThrow();
    } finally {
      other.close();
      await database.close();
    }
  });
});
