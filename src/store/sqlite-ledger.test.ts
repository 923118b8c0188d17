import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  TEST_ACCOUNT as ACCOUNT,
  charge,
  creditTestAccount,
  insertTestAccount,
  nextTurn,
  testScope as scope,
  usageFacts,
} from '../../test/support/ledger-fixture.js';
import { newId } from '../crypto/system.js';
import type { UsageFacts } from '../ports/ledger.js';
import { DataVersionWatch } from './data-version-watch.js';
import { type OpenSqlite, openSqlite } from './open-database.js';
import { SqliteLedger } from './sqlite-ledger.js';

describe('SqliteLedger group commit', () => {
  let dir: string;
  let database: OpenSqlite;
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
    await ledger.settle(holdId, charge(600), usageFacts('req_one'));
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
        ledger.settle(holdId, charge(500), usageFacts(`req_${i}`)).then(() => {
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
    const settled = ledger.settle(holdId, charge(500), usageFacts('req_lone')).then(() => {
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

describe('SqliteLedger settlements above the hold', () => {
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
    await creditTestAccount(ledger, 10_000);
  });

  afterEach(async () => {
    ledger.flush();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const row = <T>(sql: string, ...params: unknown[]) => database.sqlite.prepare(sql).get(...params) as T;
  const balance = () =>
    row<{ a: number }>('SELECT available_micros AS a FROM accounts WHERE id = ?', ACCOUNT).a;
  const entrySum = () =>
    row<{ s: number }>('SELECT SUM(amount_micros) AS s FROM ledger_entries WHERE account_id = ?', ACCOUNT).s;

  async function hold(amount: number): Promise<string> {
    const id = newId('hold');
    const now = Date.now();
    await ledger.placeHold({ id, requestId: newId('req'), scope, now }, () => [{ pool: 'prepaid', amount }]);
    return id;
  }

  it('charges all of a charge above the hold, taking the balance below zero, and marks the record', async () => {
    const holdId = await hold(8_000);
    const settlement = await ledger.settle(holdId, charge(25_000), usageFacts('req_over'));
    expect(settlement).toEqual({
      holdWasOpen: true,
      charged: [{ pool: 'prepaid', amount: 25_000 }],
      heldMicros: 8_000,
    });
    ledger.flush();
    expect(balance()).toBe(10_000 - 25_000);
    expect(entrySum()).toBe(balance());
    expect(await ledger.available(ACCOUNT)).toBe(-15_000);
    expect(
      row('SELECT cost_micros, pools, over_hold FROM usage_records WHERE request_id = ?', 'req_over'),
    ).toEqual({ cost_micros: 25_000, pools: '{"prepaid":25000}', over_hold: 1 });
  });

  it('marks a settlement within its hold as not over it', async () => {
    await ledger.settle(await hold(8_000), charge(8_000), usageFacts('req_within'));
    ledger.flush();
    expect(row('SELECT over_hold FROM usage_records WHERE request_id = ?', 'req_within')).toEqual({
      over_hold: 0,
    });
  });

  it('lets the next credits pay a debt first', async () => {
    await ledger.settle(await hold(10_000), charge(30_000), usageFacts('req_debt'));
    await creditTestAccount(ledger, 5_000);
    expect(await ledger.available(ACCOUNT)).toBe(-15_000);
    await creditTestAccount(ledger, 20_000);
    expect(await ledger.available(ACCOUNT)).toBe(5_000);
    ledger.flush();
    expect(balance()).toBe(5_000);
    expect(entrySum()).toBe(5_000);
  });

  it('refuses a credit that is not a positive whole amount: nothing but usage makes a debt', async () => {
    for (const amount of [0, -1, 1.5, Number.NaN]) {
      await expect(
        ledger.credit({ id: newId('led'), accountId: ACCOUNT, amount, note: 'x', now: Date.now() }),
      ).rejects.toThrow(RangeError);
    }
    expect(await ledger.available(ACCOUNT)).toBe(10_000);
  });

  it('refuses a settlement decision it cannot write before changing anything, leaving the hold to release', async () => {
    const holdId = await hold(1_000);
    await expect(
      ledger.settle(holdId, () => [{ pool: 'prepaid', amount: 10.5 }], usageFacts('r')),
    ).rejects.toThrow(/whole micro-USD/);
    await expect(
      ledger.settle(holdId, () => [{ pool: 'subscription', amount: 10 }], usageFacts('r')),
    ).rejects.toThrow(/held pools in order/);
    expect(await ledger.available(ACCOUNT)).toBe(9_000);
    expect(await ledger.release(holdId, undefined, Date.now())).toBe(true);
    expect(await ledger.available(ACCOUNT)).toBe(10_000);
  });
});

describe('SqliteLedger rows one request cannot spoil for the others', () => {
  let dir: string;
  let database: OpenSqlite;
  let ledger: SqliteLedger;
  const logged: string[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-ledger-'));
    database = await openSqlite(path.join(dir, 'tollgate.db'));
    insertTestAccount(database.sqlite);
    logged.length = 0;
    ledger = new SqliteLedger(
      database.sqlite,
      new DataVersionWatch(database.sqlite),
      (prefix) => newId(prefix),
      undefined,
      { error: (_details, message) => logged.push(message) },
    );
    await creditTestAccount(ledger, 1_000_000);
  });

  afterEach(async () => {
    ledger.flush();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const recorded = () =>
    (
      database.sqlite.prepare('SELECT request_id FROM usage_records ORDER BY rowid').all() as {
        request_id: string;
      }[]
    ).map((r) => r.request_id);

  async function hold(): Promise<string> {
    const id = newId('hold');
    const now = Date.now();
    await ledger.placeHold({ id, requestId: newId('req'), scope, now }, () => [
      { pool: 'prepaid', amount: 1_000 },
    ]);
    return id;
  }

  it('writes a record whose facts are missing or not numbers, rather than failing its group', async () => {
    const holds = [await hold(), await hold()];
    const broken = {
      ...usageFacts('req_broken'),
      userAgent: undefined,
      clientIp: null,
      promptTokens: Number.NaN,
      latencyMs: Number.POSITIVE_INFINITY,
      status: 200.4,
    } as unknown as UsageFacts;
    await Promise.all([
      ledger.settle(holds[0]!, charge(500), broken),
      ledger.settle(holds[1]!, charge(500), usageFacts('req_fine')),
    ]);
    expect(recorded()).toEqual(['req_broken', 'req_fine']);
    expect(
      database.sqlite
        .prepare(
          "SELECT user_agent, client_ip, prompt_tokens, latency_ms, status FROM usage_records WHERE request_id = 'req_broken'",
        )
        .get(),
    ).toEqual({
      user_agent: '',
      client_ip: '',
      prompt_tokens: 0,
      latency_ms: Number.MAX_SAFE_INTEGER,
      status: 200,
    });
  });

  it('fails only the request whose row the database refuses, and commits the others of its group', async () => {
    // Stands for any row the database might refuse, whatever the reason.
    database.sqlite.exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON usage_records
      WHEN NEW.user_agent = 'poison' BEGIN SELECT RAISE(ABORT, 'refused for the test'); END`);
    const holds = [await hold(), await hold(), await hold()];
    const outcomes = await Promise.allSettled([
      ledger.settle(holds[0]!, charge(100), usageFacts('req_before')),
      ledger.settle(holds[1]!, charge(200), usageFacts('req_poison', 'poison')),
      ledger.settle(holds[2]!, charge(400), usageFacts('req_after')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(recorded()).toEqual(['req_before', 'req_after']);
    expect(logged).toEqual([
      "the database refused a request's ledger rows: that request failed, the others were committed",
    ]);
    // The refused request left nothing behind, and memory agrees with the database.
    const committed = database.sqlite
      .prepare('SELECT available_micros FROM accounts WHERE id = ?')
      .pluck()
      .get(ACCOUNT) as number;
    expect(committed).toBe(1_000_000 - 500);
    expect(await ledger.available(ACCOUNT)).toBe(committed);
    // And the next requests are not stalled.
    await ledger.settle(await hold(), charge(100), usageFacts('req_later'));
    expect(recorded()).toEqual(['req_before', 'req_after', 'req_later']);
  });
});
