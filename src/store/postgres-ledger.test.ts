import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { countingPool } from '../../test/support/counting-pool.js';
import { charge, usageFacts } from '../../test/support/ledger-fixture.js';
import { insertAccount } from '../../test/support/ledger-kinds.js';
import { type PostgresServer, postgresMissing, startPostgres } from '../../test/support/real-servers.js';
import { newId } from '../crypto/system.js';
import type { Micros } from '../domain/money.js';
import { roomOf, type SpendScope } from '../domain/spend-scope.js';
import type { PoolPart } from '../domain/waterfall.js';
import type { HoldDecision } from '../ports/ledger.js';
import { type OpenDatabase, openDatabase } from './open-database.js';
import { LedgerUnavailableError, PostgresLedger } from './postgres-ledger.js';
import { postgresPool } from './postgres-pool.js';

const ACCOUNT = 'acct_pg_ledger';
const MONTH = { from: Date.UTC(2026, 11, 1), until: Date.UTC(2027, 0, 1) };

/** A request of a fixed cost, as the waterfall takes it: the primary pool first, then prepaid credit. */
function costing(scope: SpendScope, cost: Micros): HoldDecision {
  return (usage) => {
    const room = roomOf(scope, usage);
    if (room.keyLimit !== undefined && room.keyLimit < cost) return undefined;
    const primary = room.primary?.open ? room.primary : undefined;
    const fromPrimary = Math.min(cost, primary?.room ?? 0);
    const rest = cost - fromPrimary;
    if (rest > (room.prepaid ?? 0)) return undefined;
    if (!primary && room.prepaid === undefined) return undefined;
    const parts: PoolPart[] = [];
    if (primary) parts.push({ pool: primary.pool, amount: fromPrimary });
    if (rest > 0) parts.push({ pool: 'prepaid', amount: rest });
    return parts;
  };
}

const skip = postgresMissing();

describe.skipIf(skip !== undefined)(
  skip ? `PostgresLedger skipped: ${skip}` : 'PostgresLedger across instances',
  () => {
    let server: PostgresServer;
    let url: string;
    let database: OpenDatabase;
    const pools: pg.Pool[] = [];
    const ledgers: PostgresLedger[] = [];

    beforeAll(async () => {
      server = await startPostgres();
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
    });

    beforeEach(async () => {
      url = await server.createDatabase();
      database = await openDatabase({ kind: 'postgres', url, poolSize: 4 });
      await insertAccount(database, ACCOUNT);
    });

    afterEach(async () => {
      for (const ledger of ledgers.splice(0)) {
        ledger.instance.halt();
      }
      for (const pool of pools.splice(0)) await pool.end();
      await database.close();
    });

    /** An instance's ledger on a pool of its own, as another process would have. */
    async function instance(
      timings = { timeoutMs: 30_000, longestRequestMs: 1_000 },
      pool = postgresPool(url, 8),
    ): Promise<PostgresLedger> {
      pools.push(pool);
      const ledger = new PostgresLedger(pool, (prefix) => newId(prefix), {
        instanceId: newId('inst'),
        timings,
      });
      await ledger.start();
      ledgers.push(ledger);
      return ledger;
    }

    const prepaidScope: SpendScope = {
      accountId: ACCOUNT,
      keyId: 'key_prepaid',
      keyLimit: undefined,
      primary: undefined,
      prepaid: true,
    };

    function place(ledger: PostgresLedger, scope: SpendScope, cost: Micros) {
      const id = newId('hold');
      return ledger
        .placeHold({ id, requestId: newId('req'), scope, now: MONTH.from + 1_000 }, costing(scope, cost))
        .then((outcome) => ({ id, outcome }));
    }

    it('makes 5 round trips to place a hold, 5 to settle or release one, and 1 to credit', async () => {
      const counted = countingPool(url, 2);
      const ledger = await instance(undefined, counted.pool);
      let before = counted.sent();
      await ledger.credit({ id: newId('led'), accountId: ACCOUNT, amount: 100_000, note: 'test', now: 1 });
      expect(counted.sent() - before).toBe(1);
      // The account's first hold starts its tallies: one statement more, once.
      await place(ledger, prepaidScope, 1_000);
      const trips: Record<string, number> = {};
      for (const step of ['place', 'settle', 'release'] as const) {
        const { id } = await place(ledger, prepaidScope, 1_000);
        before = counted.sent();
        if (step === 'place') {
          await place(ledger, prepaidScope, 1_000);
        } else if (step === 'settle') {
          await ledger.settle(id, charge(700), { ...usageFacts(newId('req')), accountId: ACCOUNT });
        } else {
          await ledger.release(id, undefined, Date.now());
        }
        trips[step] = counted.sent() - before;
      }
      expect(trips).toEqual({ place: 5, settle: 5, release: 5 });
    });

    it('admits exactly what fits when two instances hold on one account and its pools at once', async () => {
      const [a, b] = [await instance(), await instance()];
      await a.credit({ id: newId('led'), accountId: ACCOUNT, amount: 50_000, note: 'test', now: 1 });
      const scope: SpendScope = {
        accountId: ACCOUNT,
        keyId: 'key_sub',
        keyLimit: { limit: 70_000, window: MONTH },
        primary: { pool: 'subscription', period: { budget: 30_000, window: MONTH } },
        prepaid: true,
      };
      // The key limit binds first: 70 requests of 1,000 fit, 30,000 from the subscription and
      // 40,000 of prepaid credit; the 130 others are refused, whichever instance they reach.
      const outcomes = await Promise.all(
        Array.from({ length: 200 }, (_, i) => place(i % 2 === 0 ? a : b, scope, 1_000)),
      );
      const placed = outcomes.filter((o) => o.outcome === 'placed');
      expect(placed.length).toBe(70);
      expect(await a.available(ACCOUNT)).toBe(10_000);
      expect(await b.usage(scope, MONTH.from + 2_000)).toMatchObject({
        keySpent: 70_000,
        subscriptionSpent: 30_000,
      });
      // Each settles on the instance that placed it, for less than it held.
      await Promise.all(
        placed.map(({ id }, i) =>
          (i % 2 === 0 ? a : b).settle(id, charge(600), {
            ...usageFacts(newId('req')),
            accountId: ACCOUNT,
            keyId: 'key_sub',
            createdAt: MONTH.from + 3_000,
          }),
        ),
      );
      // 600 of each, in the pools each held from: 30 from the subscription, 40 from prepaid credit.
      const usage = await b.usage(scope, MONTH.from + 4_000);
      expect(usage).toMatchObject({ keySpent: 42_000, subscriptionSpent: 18_000 });
      const entries = await a.entries(ACCOUNT);
      const prepaidCharged = -entries
        .filter((e) => e.kind === 'settle' && e.pool === 'prepaid')
        .reduce((sum, e) => sum + e.amount, 0);
      expect(prepaidCharged).toBe(24_000);
      expect(await a.available(ACCOUNT)).toBe(50_000 - 24_000);
      const records = await database.db.selectFrom('usage_records').select('request_id').execute();
      expect(new Set(records.map((r) => r.request_id)).size).toBe(70);
    });

    it('admits exactly the Pro chat quota’s request limit across two instances', async () => {
      const [a, b] = [await instance(), await instance()];
      const scope: SpendScope = {
        accountId: ACCOUNT,
        keyId: 'key_agent',
        keyLimit: undefined,
        primary: { pool: 'agent_quota', limits: [{ windowMs: 3_600_000, requests: 7, usd: undefined }] },
        prepaid: false,
      };
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, (_, i) => place(i % 2 === 0 ? a : b, scope, 100)),
      );
      expect(outcomes.filter((o) => o.outcome === 'placed').length).toBe(7);
    });

    it('returns a silent instance’s holds to the account after its timeout, and still charges what it answered', async () => {
      const timings = { timeoutMs: 600, longestRequestMs: 300 };
      const [dying, survivor] = [await instance(timings), await instance(timings)];
      await survivor.credit({ id: newId('led'), accountId: ACCOUNT, amount: 10_000, note: 'test', now: 1 });
      const held = [await place(dying, prepaidScope, 3_000), await place(dying, prepaidScope, 3_000)];
      expect(await survivor.available(ACCOUNT)).toBe(4_000);
      const silentSince = Date.now();
      dying.instance.halt();
      for (let i = 0; i < 100 && (await survivor.available(ACCOUNT)) !== 10_000; i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      const returnedAfter = Date.now() - silentSince;
      expect(await survivor.available(ACCOUNT)).toBe(10_000);
      // Never before its timeout plus the longest request it could still be serving; within a
      // sweep interval (timeout/5) and a heartbeat's age after that.
      expect(returnedAfter).toBeGreaterThanOrEqual(900 - 600 / 5);
      expect(returnedAfter).toBeLessThan(900 + 2 * (600 / 5) + 500);
      const returned = (await survivor.entries(ACCOUNT)).filter((e) => e.note?.startsWith('returned'));
      expect(returned.map((e) => e.kind).sort()).toEqual(['hold', 'hold', 'release', 'release']);
      // The silent instance admits nothing more, but a request it had answered is still charged.
      await expect(place(dying, prepaidScope, 1_000)).rejects.toThrow(LedgerUnavailableError);
      const late = await dying.settle(held[0]!.id, charge(2_500), {
        ...usageFacts('req_answered'),
        accountId: ACCOUNT,
        keyId: prepaidScope.keyId,
      });
      expect(late.holdWasOpen).toBe(false);
      expect(await survivor.available(ACCOUNT)).toBe(7_500);
    });

    it('places holds on one account from two instances at a measured rate', async () => {
      const [a, b] = [await instance(), await instance()];
      await a.credit({ id: newId('led'), accountId: ACCOUNT, amount: 1_000_000_000, note: 'test', now: 1 });
      await place(a, prepaidScope, 1);
      const total = 2_000;
      let next = 0;
      const started = performance.now();
      // 16 requests in flight per instance.
      await Promise.all(
        Array.from({ length: 32 }, async (_, worker) => {
          const ledger = worker % 2 === 0 ? a : b;
          while (next < total) {
            next++;
            const { id } = await place(ledger, prepaidScope, 1_000);
            await ledger.settle(id, charge(900), { ...usageFacts(newId('req')), accountId: ACCOUNT });
          }
        }),
      );
      const seconds = (performance.now() - started) / 1_000;
      console.info(
        `two PostgresLedger instances, one account: ${total} holds + settlements in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} requests/s`,
      );
      expect(await a.available(ACCOUNT)).toBe(1_000_000_000 - 900 * total - 1);
    });
  },
);
