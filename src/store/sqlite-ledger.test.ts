import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  TEST_ACCOUNT as ACCOUNT,
  creditTestAccount,
  insertTestAccount,
  nextTurn,
  testScope as scope,
  usageFacts,
} from '../../test/support/ledger-fixture.js';
import { newId } from '../crypto/system.js';
import { DataVersionWatch } from './data-version-watch.js';
import { type OpenDatabase, openSqlite } from './open-database.js';
import { SqliteLedger } from './sqlite-ledger.js';

describe('SqliteLedger group commit', () => {
  let dir: string;
  let database: OpenDatabase;
  let ledger: SqliteLedger;
  /** A second connection, as the CLI or an operator's query would have. */
  let other: Database.Database;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-ledger-'));
    const file = path.join(dir, 'tollgate.db');
    database = await openSqlite(file);
    insertTestAccount(database.sqlite);
    ledger = new SqliteLedger(database.sqlite, new DataVersionWatch(database.sqlite), (prefix) =>
      newId(prefix),
    );
    other = new Database(file, { readonly: true });
    await creditTestAccount(ledger, 1_000_000);
  });

  afterEach(async () => {
    other.close();
    ledger.flush();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const committedUsage = () =>
    (other.prepare('SELECT COUNT(*) AS n FROM usage_records').get() as { n: number }).n;
  const committedBalance = () =>
    (other.prepare('SELECT available_micros AS a FROM accounts WHERE id = ?').get(ACCOUNT) as { a: number })
      .a;

  async function hold(amount: number): Promise<string> {
    const id = newId('hold');
    const now = Date.now();
    const outcome = await ledger.placeHold({ id, requestId: newId('req'), scope, now }, () => [
      { pool: 'prepaid', amount },
    ]);
    expect(outcome).toBe('placed');
    return id;
  }

  it('answers a settlement only once another connection can read its entries and usage record', async () => {
    expect(committedBalance()).toBe(1_000_000);
    const holdId = await hold(1_000);
    await ledger.settle(holdId, 600, usageFacts('req_one'));
    expect(committedUsage()).toBe(1);
    expect(committedBalance()).toBe(999_400);
    const kinds = (
      other.prepare('SELECT kind FROM ledger_entries WHERE hold_id = ? ORDER BY rowid').all(holdId) as {
        kind: string;
      }[]
    ).map((row) => row.kind);
    expect(kinds).toEqual(['hold', 'settle', 'release']);
  });

  it('commits requests that end in consecutive turns together, so the first is answered with the last', async () => {
    const holds = [await hold(1_000), await hold(1_000), await hold(1_000)];
    const seenWhenAnswered: number[] = [];
    const settled: Promise<void>[] = [];
    for (const [i, holdId] of holds.entries()) {
      settled.push(
        ledger.settle(holdId, 500, usageFacts(`req_${i}`)).then(() => {
          seenWhenAnswered.push(committedUsage());
        }),
      );
      await nextTurn();
    }
    await Promise.all(settled);
    expect(seenWhenAnswered).toEqual([3, 3, 3]);
    expect(committedBalance()).toBe(1_000_000 - 1_500);
  });

  it('does not hold a lone request back waiting for a group', async () => {
    const holdId = await hold(1_000);
    let answered = false;
    const settled = ledger.settle(holdId, 500, usageFacts('req_lone')).then(() => {
      answered = true;
    });
    // One turn to see that nobody joined, one to commit: well before the three-turn limit.
    await nextTurn();
    await nextTurn();
    expect(answered).toBe(true);
    await settled;
    expect(committedUsage()).toBe(1);
  });
});
