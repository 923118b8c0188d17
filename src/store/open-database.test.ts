import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
