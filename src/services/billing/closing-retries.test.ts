import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { usageFacts } from '../../../test/support/ledger-fixture.js';
import { insertAccount } from '../../../test/support/ledger-kinds.js';
import { type PostgresServer, postgresMissing, startPostgres } from '../../../test/support/real-servers.js';
import { newId } from '../../crypto/system.js';
import { PREPAID_SPENDING } from '../../domain/key-spending.js';
import { NO_SUBSCRIPTIONS } from '../../domain/plans.js';
import type { ModelPrice } from '../../domain/pricing.js';
import type { UsageFacts } from '../../ports/ledger.js';
import { InMemoryMetrics } from '../../ports/metrics.js';
import { type OpenDatabase, openDatabase } from '../../store/open-database.js';
import type { LeaseSettings } from '../../store/postgres-leases.js';
import { PostgresLedger } from '../../store/postgres-ledger.js';
import { postgresPool } from '../../store/postgres-pool.js';
import { commitInDoubt, databaseUnavailable } from '../../store/store-unavailable.js';
import { Billing, type Hold } from './billing.js';
import { ClosingRetries } from './closing-retries.js';
import { PlanCatalogue } from './plan-catalogue.js';

/** 1 micro-USD a prompt token, 10 an output token. */
const PRICE: ModelPrice = { inputMicrosPerMillion: 1_000_000, outputMicrosPerMillion: 10_000_000 };
/** 100 prompt tokens and 50 output tokens: 600 micro-USD. */
const USAGE = { promptTokens: 100, completionTokens: 50 };
const COST = 600;
const CREDIT = 1_000_000;
const LEASES: LeaseSettings = { micros: 100_000, instances: 1, pollMs: 20, idleMs: 400, recallWaitMs: 1_000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(25);
  }
}

describe('a full set of kept closings', () => {
  it('drops what does not fit, counting each and logging once until there is room again', async () => {
    const errors: string[] = [];
    const metrics = new InMemoryMetrics();
    const unreachable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    const closings = new ClosingRetries({
      classify: databaseUnavailable,
      inDoubt: commitInDoubt,
      log: { warn: () => {}, error: (_fields, message) => errors.push(message) },
      metrics,
      capacity: 1,
      firstDelayMs: 60_000,
    });
    let tries = 0;
    closings.keep('hold_a', 'settlement', async () => {
      tries++;
      return 'closed';
    });
    closings.keep('hold_b', 'settlement', async () => 'closed');
    closings.keep('hold_c', 'release', async () => 'closed');
    expect(metrics.closings).toBe(1);
    expect(metrics.closingOutcomes).toEqual(['dropped', 'dropped']);
    expect(errors).toHaveLength(1);
    // A release of a hold whose settlement is kept does not replace it.
    closings.keep('hold_a', 'release', async () => 'closed');
    expect(closings.settling('hold_a')).toBe(true);
    await closings.close();
    expect(tries).toBe(1);
    expect(metrics.closingOutcomes).toEqual(['dropped', 'dropped', 'closed']);
    expect(closings.mendable(unreachable)).toBe(true);
  });
});

const skip = postgresMissing();

describe.skipIf(skip !== undefined)(
  skip
    ? `closings kept for retry skipped: ${skip}`
    : 'settlements and releases the database could not take are kept and retried',
  () => {
    let server: PostgresServer;
    let url: string;
    let database: OpenDatabase;
    let account: string;
    const pools: pg.Pool[] = [];
    const ledgers: PostgresLedger[] = [];
    const retries: ClosingRetries[] = [];

    beforeAll(async () => {
      server = await startPostgres();
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
    });
    beforeEach(async () => {
      url = await server.createDatabase();
      database = await openDatabase({ kind: 'postgres', url, poolSize: 2 });
      account = newId('acct');
      await insertAccount(database, account);
    });
    afterEach(async () => {
      for (const kept of retries.splice(0)) await kept.close();
      for (const ledger of ledgers.splice(0)) {
        ledger.instance.halt();
        ledger.leases.halt();
      }
      for (const pool of pools.splice(0)) await pool.end();
      await database.close();
    });

    /**
     * Billing on a PostgreSQL ledger of its own. With `loseCommit` armed, the next COMMIT is
     * carried out by the server and its answer lost, as when the connection drops at that moment.
     */
    async function gateway(options: { leases?: LeaseSettings } = {}) {
      const pool = postgresPool(url, 4);
      pools.push(pool);
      const lose = { armed: false };
      pool.on('connect', (client) => {
        const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
        (client as unknown as { query: unknown }).query = async (...args: unknown[]) => {
          const answer = await query(...args);
          if (lose.armed && args[0] === 'COMMIT') {
            lose.armed = false;
            throw new Error('Connection terminated unexpectedly');
          }
          return answer;
        };
      });
      const metrics = new InMemoryMetrics();
      const logged: { level: string; fields: object; message: string }[] = [];
      const log = {
        warn: (fields: object, message: string) => logged.push({ level: 'warn', fields, message }),
        error: (fields: object, message: string) => logged.push({ level: 'error', fields, message }),
      };
      const ledger = new PostgresLedger(pool, (prefix) => newId(prefix), {
        instanceId: newId('inst'),
        timings: { timeoutMs: 60_000, longestRequestMs: 1_000 },
        leases: options.leases ?? { micros: 0, instances: 1 },
        metrics,
      });
      await ledger.start();
      ledgers.push(ledger);
      const closings = new ClosingRetries({
        classify: databaseUnavailable,
        inDoubt: commitInDoubt,
        log,
        metrics,
        firstDelayMs: 100,
        maxDelayMs: 400,
      });
      retries.push(closings);
      const billing = new Billing(
        ledger,
        new PlanCatalogue([]),
        { now: () => Date.now() },
        (prefix) => newId(prefix),
        { log, metrics },
        closings,
      );
      await ledger.credit({ id: newId('led'), accountId: account, amount: CREDIT, note: 'test', now: 1 });
      return { billing, ledger, closings, metrics, logged, loseNextCommit: () => (lose.armed = true) };
    }

    async function admit(billing: Billing): Promise<{ hold: Hold; requestId: string }> {
      const requestId = newId('req');
      const admission = await billing.admit({
        principal: {
          keyId: 'key_retry',
          accountId: account,
          keyType: 'inference',
          spending: PREPAID_SPENDING,
          subscriptions: NO_SUBSCRIPTIONS,
        },
        requestId,
        price: PRICE,
        promptTokensCeiling: 100,
        requestedMaxTokens: 100,
        maxTokensParam: 'max_tokens',
        modelMaxOutputTokens: 1_000,
        generations: 1,
      });
      if (!admission.ok) throw new Error(`refused: ${admission.failure.code}`);
      return { hold: admission.hold, requestId };
    }

    /** The request's usage as the provider reported it (USAGE), on this test's account. */
    function facts(requestId: string): UsageFacts {
      return { ...usageFacts(requestId), accountId: account, keyId: 'key_retry', ...USAGE };
    }

    async function recordsOf(requestId: string): Promise<number> {
      const { rows } = await pools[0]!.query('SELECT 1 FROM usage_records WHERE request_id = $1', [
        requestId,
      ]);
      return rows.length;
    }

    async function available(ledger: PostgresLedger): Promise<number | undefined> {
      return ledger.available(account);
    }

    it('charges a request settled while the database was down once it is back, and releases nothing', async () => {
      const { billing, ledger, closings, metrics } = await gateway();
      const { hold, requestId } = await admit(billing);
      await server.halt();
      try {
        await expect(billing.settle(hold, PRICE, USAGE, facts(requestId))).rejects.toThrow();
        expect(closings.settling(hold.id)).toBe(true);
        expect(metrics.closings).toBe(1);
        // The request's own cleanup releases its hold after a failed settlement: the kept settlement wins.
        await billing.release(hold, undefined);
        await sleep(300);
      } finally {
        await server.restart();
      }
      await until(() => metrics.closingOutcomes.length > 0);
      expect(metrics.closingOutcomes).toEqual(['closed']);
      expect(metrics.closings).toBe(0);
      expect(await available(ledger)).toBe(CREDIT - COST);
      expect(await recordsOf(requestId)).toBe(1);
      expect(metrics.holds).toBe(0);
    }, 60_000);

    it('charges once when a settlement committed but its answer was lost', async () => {
      const { billing, ledger, metrics, loseNextCommit } = await gateway();
      const { hold, requestId } = await admit(billing);
      loseNextCommit();
      await expect(billing.settle(hold, PRICE, USAGE, facts(requestId))).rejects.toThrow(/terminated/);
      await until(() => metrics.closingOutcomes.length > 0);
      expect(metrics.closingOutcomes).toEqual(['repeated']);
      expect(await available(ledger)).toBe(CREDIT - COST);
      expect(await recordsOf(requestId)).toBe(1);
    }, 30_000);

    it('charges once, and gives the rest of the lease back, when a lease hold’s settlement lost its answer', async () => {
      const { billing, ledger, metrics, loseNextCommit } = await gateway({ leases: LEASES });
      // A burst: the third request holds against a credit lease, with no round trip.
      const burst = [await admit(billing), await admit(billing), await admit(billing)];
      const leased = burst[2]!;
      expect(ledger.leases.local.has(leased.hold.id)).toBe(true);
      loseNextCommit();
      await expect(billing.settle(leased.hold, PRICE, USAGE, facts(leased.requestId))).rejects.toThrow();
      await until(() => metrics.closingOutcomes.length > 0);
      expect(metrics.closingOutcomes).toEqual(['repeated']);
      for (const { hold, requestId } of burst.slice(0, 2))
        await billing.settle(hold, PRICE, USAGE, facts(requestId));
      // Once the lease is back, the account has paid exactly three requests.
      await until(async () => (await available(ledger)) === CREDIT - 3 * COST);
      expect(await recordsOf(leased.requestId)).toBe(1);
      const { rows } = await pools[0]!.query(
        'SELECT count(*)::int AS n FROM ledger_holds WHERE account_id = $1',
        [account],
      );
      expect(rows[0].n).toBe(0);
    }, 30_000);

    it('releases a hold whose release met the database down, once it is back', async () => {
      const { billing, ledger, metrics } = await gateway();
      const { hold, requestId } = await admit(billing);
      expect(await available(ledger)).toBeLessThan(CREDIT);
      await server.halt();
      try {
        await expect(
          billing.release(hold, { ...facts(requestId), costMicros: 0, outcome: 'failed', status: 502 }),
        ).rejects.toThrow();
      } finally {
        await server.restart();
      }
      await until(() => metrics.closingOutcomes.length > 0);
      expect(metrics.closingOutcomes).toEqual(['closed']);
      expect(await available(ledger)).toBe(CREDIT);
      expect(await recordsOf(requestId)).toBe(1);
    }, 60_000);

    it('releases a hold whose placement committed with its answer lost', async () => {
      const { billing, ledger, metrics, loseNextCommit } = await gateway();
      loseNextCommit();
      await expect(admit(billing)).rejects.toThrow(/terminated/);
      await until(() => metrics.closingOutcomes.length > 0);
      expect(metrics.closingOutcomes).toEqual(['closed']);
      expect(await available(ledger)).toBe(CREDIT);
    }, 30_000);

    it('keeps nothing for a placement the database never received', async () => {
      const { billing, metrics } = await gateway();
      await server.halt();
      try {
        await expect(admit(billing)).rejects.toThrow();
        expect(metrics.closings).toBe(0);
      } finally {
        await server.restart();
      }
    }, 60_000);

    it('tries once more at shutdown, and names the holds it could not close', async () => {
      const { billing, closings, logged } = await gateway();
      const { hold, requestId } = await admit(billing);
      await server.halt();
      try {
        await expect(billing.settle(hold, PRICE, USAGE, facts(requestId))).rejects.toThrow();
        await closings.close();
      } finally {
        await server.restart();
      }
      const left = logged.find((line) => line.message.startsWith('closings still kept at shutdown'));
      expect(left?.fields).toEqual({ holds: [hold.id] });
    }, 60_000);
  },
);
