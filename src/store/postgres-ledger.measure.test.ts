import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charge, usageFacts } from '../../test/support/ledger-fixture.js';
import { insertAccount } from '../../test/support/ledger-kinds.js';
import { type PostgresServer, postgresMissing, startPostgres } from '../../test/support/real-servers.js';
import { newId } from '../crypto/system.js';
import type { SpendScope } from '../domain/spend-scope.js';
import { type OpenDatabase, openDatabase } from './open-database.js';
import { PostgresLedger } from './postgres-ledger.js';
import { postgresPool } from './postgres-pool.js';

/**
 * A measurement, not a test of behaviour: two PostgresLedger instances (a pool each, as two
 * processes) on one account, then on 32. Run on demand:
 *   TOLLGATE_MEASURE=1 [DURABLE=1] npx vitest run src/store/postgres-ledger.measure.test.ts
 */
/**
 * How long a request waits when only another instance's unused slice can pay it: A leases $1 of
 * an account of $10, B holds the rest but $0.10 directly, then asks for $0.50.
 */
async function recallTimes(a: PostgresLedger, b: PostgresLedger, database: OpenDatabase): Promise<string> {
  const times: number[] = [];
  for (let trial = 0; trial < 20; trial++) {
    const accountId = newId('acct');
    await insertAccount(database, accountId);
    await a.credit({ id: newId('led'), accountId, amount: 10_000_000, note: 't', now: 1 });
    const scope: SpendScope = {
      accountId,
      keyId: 'k',
      keyLimit: undefined,
      primary: undefined,
      prepaid: true,
    };
    const hold = (ledger: PostgresLedger, amount: number) =>
      ledger.placeHold({ id: newId('hold'), requestId: 'r', scope, now: Date.now() }, (usage) =>
        usage.prepaidAvailable >= amount ? [{ pool: 'prepaid', amount }] : undefined,
      );
    await hold(a, 1_000);
    await hold(a, 1_000);
    await hold(b, 10_000_000 - 2_000 - 1_000_000 - 100_000);
    const started = performance.now();
    if ((await hold(b, 500_000)) !== 'placed') throw new Error('a payable request was refused');
    times.push(performance.now() - started);
  }
  times.sort((x, y) => x - y);
  return `median ${times[10]!.toFixed(0)}, max ${times[19]!.toFixed(0)}`;
}

const skip =
  postgresMissing() ?? (process.env.TOLLGATE_MEASURE ? undefined : 'a measurement: set TOLLGATE_MEASURE=1');

describe.skipIf(skip !== undefined)(
  skip ? `PostgresLedger throughput skipped: ${skip}` : 'PostgresLedger throughput',
  () => {
    let server: PostgresServer;
    beforeAll(async () => {
      // DURABLE=1: fsync and synchronous commit on, as in production.
      server = await startPostgres({ durable: process.env.DURABLE === '1' });
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
    });

    it('prints holds and settlements per second, one account and 32, from two instances', async () => {
      const url = await server.createDatabase();
      const database = await openDatabase({ kind: 'postgres', url, poolSize: 4 });
      const accounts = Array.from({ length: 32 }, (_, i) => `acct_m${i}`);
      for (const a of accounts) await insertAccount(database, a);
      const pools = [
        postgresPool(url, 16),
        postgresPool(url, 16),
        postgresPool(url, 16),
        postgresPool(url, 16),
      ];
      // The last two lease: a slice of $1 each, two instances.
      const all = pools.map(
        (pool, i) =>
          new PostgresLedger(pool, (p) => newId(p), {
            instanceId: newId('inst'),
            timings: { timeoutMs: 30_000, longestRequestMs: 1_000 },
            ...(i >= 2 ? { leases: { micros: 1_000_000, instances: 2 } } : {}),
          }),
      );
      for (const l of all) await l.start();
      let ledgers = all.slice(0, 2);
      for (const a of accounts)
        await ledgers[0]!.credit({ id: newId('led'), accountId: a, amount: 1e12, note: 't', now: 1 });
      const scopeOf = (accountId: string): SpendScope => ({
        accountId,
        keyId: 'k',
        keyLimit: undefined,
        primary: undefined,
        prepaid: true,
      });
      async function run(
        label: string,
        total: number,
        workers: number,
        accountOf: (w: number) => string,
        settle: boolean,
      ) {
        let next = 0;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: workers }, async (_, w) => {
            const ledger = ledgers[w % 2]!;
            const scope = scopeOf(accountOf(w));
            while (next < total) {
              next++;
              const id = newId('hold');
              await ledger.placeHold({ id, requestId: 'r', scope, now: Date.now() }, () => [
                { pool: 'prepaid', amount: 1000 },
              ]);
              if (settle)
                await ledger.settle(id, charge(900), {
                  ...usageFacts(newId('req')),
                  accountId: scope.accountId,
                });
            }
          }),
        );
        const s = (performance.now() - t0) / 1000;
        console.info(`${label}: ${total} in ${s.toFixed(2)} s = ${Math.round(total / s)}/s`);
      }
      for (const a of accounts)
        await ledgers[0]!.placeHold(
          { id: newId('hold'), requestId: 'r', scope: scopeOf(a), now: Date.now() },
          () => [{ pool: 'prepaid', amount: 1 }],
        );
      await run('sequential, one account, hold+settle', 300, 1, () => accounts[0]!, true);
      await run('32 in flight over 2 ledgers, one account, hold only', 2000, 32, () => accounts[0]!, false);
      await run('32 in flight over 2 ledgers, one account, hold+settle', 2000, 32, () => accounts[0]!, true);
      await run('32 in flight over 2 ledgers, 32 accounts, hold+settle', 2000, 32, (w) => accounts[w]!, true);
      ledgers = all.slice(2);
      await run(
        'leases of $1, 32 in flight over 2 ledgers, one account, hold+settle',
        2000,
        32,
        () => accounts[1]!,
        true,
      );
      await run(
        'leases of $1, 32 in flight over 2 ledgers, one account, hold+settle',
        2000,
        32,
        () => accounts[1]!,
        true,
      );
      await run(
        'leases of $1, 32 in flight over 2 ledgers, 32 accounts, hold+settle',
        2000,
        32,
        (w) => accounts[w]!,
        true,
      );
      const local = all.slice(2).reduce((n, l) => n + l.leases.heldLocally, 0);
      console.info(`held against a lease: ${local} of 6000`);
      console.info(`a recall, ms (20 trials): ${await recallTimes(all[2]!, all[3]!, database)}`);
      for (const l of all) l.instance.halt();
      for (const p of pools) await p.end();
      await database.close();
      expect(true).toBe(true);
    }, 300_000);
  },
);
