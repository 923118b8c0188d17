import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reconcilePostgres } from '../../test/support/cluster-reconcile.js';
import { countingPool } from '../../test/support/counting-pool.js';
import { charge, usageFacts } from '../../test/support/ledger-fixture.js';
import { insertAccount } from '../../test/support/ledger-kinds.js';
import { type PostgresServer, postgresMissing, startPostgres } from '../../test/support/real-servers.js';
import { newId } from '../crypto/system.js';
import type { Micros } from '../domain/money.js';
import { roomOf, type SpendScope } from '../domain/spend-scope.js';
import type { HoldDecision } from '../ports/ledger.js';
import { InMemoryMetrics } from '../ports/metrics.js';
import { type OpenDatabase, openDatabase } from './open-database.js';
import type { LeaseSettings } from './postgres-leases.js';
import { PostgresLedger } from './postgres-ledger.js';
import { postgresPool } from './postgres-pool.js';

const SLICE = 100_000;
const LEASES: LeaseSettings = { micros: SLICE, instances: 2, pollMs: 20, idleMs: 400, recallWaitMs: 3_000 };

/** A request of a fixed cost on prepaid credit, refused when the room cannot pay it. */
function costing(scope: SpendScope, cost: Micros): HoldDecision {
  return (usage) => {
    const room = roomOf(scope, usage);
    return (room.prepaid ?? 0) >= cost ? [{ pool: 'prepaid', amount: cost }] : undefined;
  };
}

/** Stops an instance as SIGKILL would: no heartbeat, nothing more done with its leases. */
function crash(ledger: PostgresLedger): void {
  ledger.instance.halt();
  ledger.leases.halt();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const skip = postgresMissing();

describe.skipIf(skip !== undefined)(
  skip ? `credit leases skipped: ${skip}` : 'credit leases across two instances',
  () => {
    let server: PostgresServer;
    let url: string;
    let database: OpenDatabase;
    const pools: pg.Pool[] = [];
    const ledgers: PostgresLedger[] = [];
    let account: string;

    beforeAll(async () => {
      server = await startPostgres();
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
    });
    // A database of each test's own: a halted instance's leases stay behind in it.
    beforeEach(async () => {
      url = await server.createDatabase();
      database = await openDatabase({ kind: 'postgres', url, poolSize: 4 });
      account = newId('acct');
      await insertAccount(database, account);
    });
    afterEach(async () => {
      for (const ledger of ledgers.splice(0)) crash(ledger);
      await sleep(50);
      for (const pool of pools.splice(0)) await pool.end();
      await database.close();
    });

    async function instance(
      options: {
        pool?: pg.Pool;
        leases?: LeaseSettings;
        timings?: { timeoutMs: number; longestRequestMs: number };
      } = {},
    ) {
      const pool = options.pool ?? postgresPool(url, 8);
      pools.push(pool);
      const metrics = new InMemoryMetrics();
      const ledger = new PostgresLedger(pool, (prefix) => newId(prefix), {
        instanceId: newId('inst'),
        timings: options.timings ?? { timeoutMs: 30_000, longestRequestMs: 1_000 },
        leases: options.leases ?? LEASES,
        metrics,
      });
      await ledger.start();
      ledgers.push(ledger);
      return { ledger, metrics };
    }

    const scopeOf = (): SpendScope => ({
      accountId: account,
      keyId: 'key_lease',
      keyLimit: undefined,
      primary: undefined,
      prepaid: true,
    });

    function place(ledger: PostgresLedger, cost: Micros) {
      const id = newId('hold');
      const scope = scopeOf();
      return ledger
        .placeHold({ id, requestId: newId('req'), scope, now: Date.now() }, costing(scope, cost))
        .then((outcome) => ({ id, outcome }));
    }

    function settle(ledger: PostgresLedger, id: string, cost: Micros) {
      return ledger.settle(id, charge(cost), {
        ...usageFacts(newId('req')),
        accountId: account,
        keyId: 'key_lease',
      });
    }

    async function leaseRows(): Promise<
      { instance_id: string; amount_micros: string; lease_state: string }[]
    > {
      const { rows } = await pools[0]!.query(
        `SELECT instance_id, amount_micros::text, lease_state FROM ledger_holds
          WHERE account_id = $1 AND lease_state IS NOT NULL`,
        [account],
      );
      return rows;
    }

    async function until(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error('timed out');
        await sleep(20);
      }
    }

    it('holds against a lease with no round trip once the account is busy, and settles in 5', async () => {
      const counted = countingPool(url, 4);
      const { ledger, metrics } = await instance({ pool: counted.pool });
      await ledger.credit({ id: newId('led'), accountId: account, amount: 10_000_000, note: 't', now: 1 });
      // The first request holds in the database; the second, with the first in flight, takes a lease.
      const first = await place(ledger, 1_000);
      const second = await place(ledger, 1_000);
      expect([first.outcome, second.outcome]).toEqual(['placed', 'placed']);
      expect(metrics.leases).toBe(1);
      expect(await leaseRows()).toMatchObject([{ amount_micros: String(SLICE), lease_state: 'open' }]);
      // Every other instance sees the slice as held.
      expect(await ledger.available(account)).toBe(10_000_000 - 2_000 - SLICE);
      const before = counted.sent();
      const local = await Promise.all(Array.from({ length: 10 }, () => place(ledger, 1_000)));
      expect(local.every((l) => l.outcome === 'placed')).toBe(true);
      expect(counted.sent() - before).toBe(0);
      const settling = counted.sent();
      await settle(ledger, local[0]!.id, 700);
      expect(counted.sent() - settling).toBe(5);
      for (const l of [first, second, ...local.slice(1)]) await settle(ledger, l.id, 700);
      // Idle: the unused slice goes back, and the account reconciles as without leases.
      await until(async () => (await leaseRows()).length === 0);
      expect(metrics.leases).toBe(0);
      expect(await ledger.available(account)).toBe(10_000_000 - 12 * 700);
      expect(await reconcilePostgres(url)).toEqual([]);
      const records = await pools[0]!.query(
        'SELECT COUNT(*)::int AS n FROM usage_records WHERE account_id = $1',
        [account],
      );
      expect(records.rows[0].n).toBe(12);
    });

    it('holds in the database again once the database has not answered for a while', async () => {
      // No lease check answers within 200 ms here (they run every 10 s): as if the database were gone.
      const counted = countingPool(url, 4);
      const { ledger } = await instance({
        pool: counted.pool,
        leases: { ...LEASES, pollMs: 10_000, idleMs: 60_000, contactMs: 200 },
      });
      await ledger.credit({ id: newId('led'), accountId: account, amount: 10_000_000, note: 't', now: 1 });
      await place(ledger, 1_000);
      await place(ledger, 1_000);
      const before = counted.sent();
      expect((await place(ledger, 1_000)).outcome).toBe('placed');
      expect(counted.sent() - before).toBe(0);
      await sleep(300);
      const later = counted.sent();
      const direct = await place(ledger, 1_000);
      expect(direct.outcome).toBe('placed');
      expect(ledger.leases.local.has(direct.id)).toBe(false);
      expect(counted.sent() - later).toBeGreaterThan(0);
      await ledger.close();
    });

    it('takes no lease for requests that come one at a time', async () => {
      const { ledger } = await instance();
      await ledger.credit({ id: newId('led'), accountId: account, amount: 10_000_000, note: 't', now: 1 });
      // A burst leases, and holds against the lease; once it has ended and the lease is back…
      const burst = [await place(ledger, 1_000), await place(ledger, 1_000), await place(ledger, 1_000)];
      expect(ledger.leases.local.has(burst[2]!.id)).toBe(true);
      for (const h of burst) await settle(ledger, h.id, 500);
      await until(async () => (await leaseRows()).length === 0);
      // …a request at a time holds in the database, and takes none.
      for (let i = 0; i < 5; i++) {
        const { id } = await place(ledger, 1_000);
        expect(ledger.leases.local.has(id)).toBe(false);
        expect(await leaseRows()).toEqual([]);
        await settle(ledger, id, 500);
      }
    });

    it('gives a lease back when its key limit’s window ends, busy or not', async () => {
      const { ledger } = await instance({ leases: { ...LEASES, idleMs: 60_000 } });
      await ledger.credit({ id: newId('led'), accountId: account, amount: 10_000_000, note: 't', now: 1 });
      const now = Date.now();
      const scope: SpendScope = {
        ...scopeOf(),
        keyLimit: { limit: 5_000_000, window: { from: now - 1_000, until: now + 400 } },
      };
      const hold = (cost: Micros) =>
        ledger.placeHold(
          { id: newId('hold'), requestId: newId('req'), scope, now: Date.now() },
          costing(scope, cost),
        );
      expect([await hold(1_000), await hold(1_000)]).toEqual(['placed', 'placed']);
      expect((await leaseRows()).length).toBe(1);
      await until(async () => (await leaseRows()).length === 0);
      expect(Date.now()).toBeGreaterThanOrEqual(now + 400);
    });

    it('gives its leases back when it closes', async () => {
      const { ledger } = await instance();
      await ledger.credit({ id: newId('led'), accountId: account, amount: 10_000_000, note: 't', now: 1 });
      const held = [await place(ledger, 1_000), await place(ledger, 1_000), await place(ledger, 1_000)];
      expect((await leaseRows()).length).toBe(1);
      for (const h of held) await settle(ledger, h.id, 1_000);
      await ledger.close();
      expect(await leaseRows()).toEqual([]);
      expect(await ledger.available(account)).toBe(10_000_000 - 3_000);
    });

    it('returns a crashed instance’s lease through the sweeper, with no usage record and no entry', async () => {
      const timings = { timeoutMs: 600, longestRequestMs: 300 };
      const { ledger: dying } = await instance({ timings });
      const { ledger: survivor } = await instance({ timings });
      await survivor.credit({ id: newId('led'), accountId: account, amount: 10_000_000, note: 't', now: 1 });
      const held = [await place(dying, 2_000), await place(dying, 2_000), await place(dying, 2_000)];
      expect(held.map((h) => h.outcome)).toEqual(['placed', 'placed', 'placed']);
      expect((await leaseRows()).length).toBe(1);
      crash(dying);
      await until(async () => (await survivor.available(account)) === 10_000_000, 10_000);
      expect(await leaseRows()).toEqual([]);
      const entries = await survivor.entries(account);
      // The two holds in the database wrote their return; the lease (and its local hold) none.
      expect(
        entries
          .filter((e) => e.kind !== 'credit')
          .map((e) => e.holdId)
          .sort(),
      ).toEqual([held[0]!.id, held[0]!.id, held[1]!.id, held[1]!.id].sort());
      const records = await pools[0]!.query(
        'SELECT COUNT(*)::int AS n FROM usage_records WHERE account_id = $1',
        [account],
      );
      expect(records.rows[0].n).toBe(0);
      // The dying instance cannot hold against its lease any more; a request it had answered is
      // still charged, as for a hold no longer open.
      await expect(place(dying, 1_000)).rejects.toThrow();
      const late = await settle(dying, held[2]!.id, 1_500);
      expect(late.holdWasOpen).toBe(false);
      expect(await survivor.available(account)).toBe(10_000_000 - 1_500);
      expect(await reconcilePostgres(url)).toEqual([]);
    });

    it('admits a request on another instance that only the first one’s unused slice can pay (a recall)', async () => {
      const { ledger: a, metrics } = await instance();
      const { ledger: b } = await instance();
      await a.credit({ id: newId('led'), accountId: account, amount: 1_000_000, note: 't', now: 1 });
      const onA = [await place(a, 10_000), await place(a, 10_000)];
      expect((await leaseRows()).map((r) => r.instance_id)).toHaveLength(1);
      // B spends what the lease left: 1,000,000 - 20,000 - 100,000 held by A.
      const big = await place(b, 860_000);
      expect(big.outcome).toBe('placed');
      expect(await b.available(account)).toBe(20_000);
      // 70,000 is more than the account has free, but A's slice holds 100,000 unused.
      const needy = await place(b, 70_000);
      expect(needy.outcome).toBe('placed');
      expect(metrics.leaseRecalls).toBe(1);
      // A no longer holds against it; the account has left exactly what no request holds.
      expect(await b.available(account)).toBe(1_000_000 - 20_000 - 860_000 - 70_000);
      const refused = await place(b, 50_001);
      expect(refused.outcome).toBe('refused');
      for (const [ledger, h] of [
        [a, onA[0]!],
        [a, onA[1]!],
        [b, big],
        [b, needy],
      ] as const)
        await settle(ledger, h.id, 5_000);
      await until(async () => (await leaseRows()).length === 0);
      expect(await reconcilePostgres(url)).toEqual([]);
    });

    it('does not wait for a silent instance’s lease before a refusal', async () => {
      // A long request allowance: the silent instance's lease stays until the sweeper's time.
      const timings = { timeoutMs: 600, longestRequestMs: 60_000 };
      const { ledger: silent } = await instance({ timings });
      const { ledger: b } = await instance({ timings });
      await b.credit({ id: newId('led'), accountId: account, amount: 1_000_000, note: 't', now: 1 });
      await place(silent, 1_000);
      await place(silent, 1_000);
      expect((await leaseRows()).length).toBe(1);
      crash(silent);
      await sleep(700);
      const started = performance.now();
      expect((await place(b, 950_000)).outcome).toBe('refused');
      expect(performance.now() - started).toBeLessThan(1_000);
    });

    it('never admits more than the room, nor refuses what the room minus the admitted holds pays', async () => {
      const [a, b] = [(await instance()).ledger, (await instance()).ledger];
      let heldLocally = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.oneof(
              fc.record({
                op: fc.constant('place' as const),
                on: fc.nat(1),
                cost: fc.integer({ min: 1, max: 150_000 }),
              }),
              fc.record({ op: fc.constant('settle' as const), which: fc.nat(), cost: fc.nat(40_000) }),
            ),
            { minLength: 5, maxLength: 30 },
          ),
          async (steps) => {
            account = newId('acct');
            await insertAccount(database, account);
            const credit = 1_000_000;
            await a.credit({ id: newId('led'), accountId: account, amount: credit, note: 't', now: 1 });
            let charged = 0;
            const open: { id: string; on: PostgresLedger; cost: number }[] = [];
            for (const step of steps) {
              const heldByRequests = open.reduce((sum, h) => sum + h.cost, 0);
              if (step.op === 'place') {
                const ledger = step.on === 0 ? a : b;
                const { id, outcome } = await place(ledger, step.cost);
                if (ledger.leases.local.has(id)) heldLocally++;
                const room = credit - charged - heldByRequests;
                if (outcome === 'placed') {
                  expect(step.cost).toBeLessThanOrEqual(room);
                  open.push({ id, on: ledger, cost: step.cost });
                } else {
                  expect(outcome).toBe('refused');
                  expect(step.cost).toBeGreaterThan(room);
                }
              } else if (open.length > 0) {
                const [hold] = open.splice(step.which % open.length, 1);
                const cost = Math.min(step.cost, hold!.cost);
                await settle(hold!.on, hold!.id, cost);
                charged += cost;
              }
            }
            for (const hold of open) await settle(hold.on, hold.id, 0);
            a.forgetBalances();
            b.forgetBalances();
            await until(async () => (await leaseRows()).length === 0);
            expect(await a.available(account)).toBe(credit - charged);
          },
        ),
        { numRuns: 25 },
      );
      // The sequences did exercise leases.
      expect(heldLocally).toBeGreaterThan(10);
      expect(await reconcilePostgres(url)).toEqual([]);
    }, 120_000);
  },
);
