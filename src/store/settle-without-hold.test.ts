import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  TEST_ACCOUNT as ACCOUNT,
  charge,
  creditTestAccount,
  insertTestAccount,
  usageFacts,
} from '../../test/support/ledger-fixture.js';
import { newId } from '../crypto/system.js';
import { DataVersionWatch } from './data-version-watch.js';
import { type OpenSqlite, openSqlite } from './open-database.js';
import { SqliteLedger } from './sqlite-ledger.js';

/** A request that was served is charged and recorded even when its hold is no longer open. */
describe('a settlement whose hold is gone', () => {
  let dir: string;
  let database: OpenSqlite;
  let ledger: SqliteLedger;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-ledger-'));
    database = await openSqlite(path.join(dir, 'tollgate.db'));
    insertTestAccount(database.sqlite);
    ledger = new SqliteLedger(database.sqlite, new DataVersionWatch(database.sqlite), (prefix) =>
      newId(prefix),
    );
    await creditTestAccount(ledger, 1_000_000);
  });

  afterEach(async () => {
    ledger.flush();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const usageRows = () =>
    database.sqlite.prepare('SELECT request_id, cost_micros, pools FROM usage_records').all() as {
      request_id: string;
      cost_micros: number;
      pools: string;
    }[];

  it('is charged to prepaid credit and recorded, not dropped', async () => {
    const settlement = await ledger.settle('hold_never_seen', charge(700), usageFacts('req_orphan'));
    expect(settlement).toEqual({
      holdWasOpen: false,
      charged: [{ pool: 'prepaid', amount: 700 }],
      heldMicros: 0,
    });
    expect(await ledger.available(ACCOUNT)).toBe(999_300);
    ledger.flush();
    expect(usageRows()).toEqual([{ request_id: 'req_orphan', cost_micros: 700, pools: '{"prepaid":700}' }]);
    const entries = (await ledger.entries(ACCOUNT)).filter((e) => e.holdId === 'hold_never_seen');
    expect(entries.map((e) => [e.kind, e.amount])).toEqual([
      ['hold', 0],
      ['settle', -700],
      ['release', 0],
    ]);
    const balance = database.sqlite.prepare('SELECT available_micros FROM accounts WHERE id = ?').pluck();
    expect(balance.get(ACCOUNT)).toBe(999_300);
  });
});
