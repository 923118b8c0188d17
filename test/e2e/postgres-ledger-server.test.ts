import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { PREPAID_SPENDING } from '../../src/domain/key-spending.js';
import { createTollgate, type Tollgate } from '../../src/main.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-openai-upstream.js';
import { bearer, configYaml, expectedCharge, TEST_KEY_SECRET } from '../support/harness.js';
import { ledgerFigures } from '../support/ledger-figures.js';
import { type PostgresServer, postgresMissing, startPostgres } from '../support/real-servers.js';

const skip = postgresMissing();

/** Two instances in one process, as two processes would be: their own pools, one database. */
describe.skipIf(skip !== undefined)(
  skip ? `two servers on one PostgreSQL ledger (skipped: ${skip})` : 'two servers on one PostgreSQL ledger',
  () => {
    let postgres: PostgresServer;
    let upstream: FakeUpstream;
    const instances: Tollgate[] = [];

    beforeAll(async () => {
      postgres = await startPostgres();
      upstream = await startFakeUpstream();
      const url = await postgres.createDatabase();
      const env = { TOLLGATE_KEY_SECRET: TEST_KEY_SECRET, PORT: '0', HOST: '127.0.0.1' };
      for (let i = 0; i < 2; i++) {
        const config = parseConfig(configYaml(upstream.url), 'test.yaml', {
          ...env,
          TOLLGATE_DATABASE_URL: url,
        });
        const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
        instances.push(await createTollgate(config, env, { logLevel: 'warn', logStream: quiet }));
      }
    }, 60_000);

    afterAll(async () => {
      for (const tollgate of instances) await tollgate.close();
      await upstream?.close();
      await postgres?.stop();
    });

    it('admits what the balance pays for through either instance, charges what the upstream reported, and reconciles', async () => {
      const [a, b] = instances as [Tollgate, Tollgate];
      const account = await a.services.accounts.create('pg-ledger@example.com');
      if (!account.ok) throw new Error(account.error);
      const accountId = account.value.id;
      await a.services.accounts.addCredits(accountId, 1_000_000, 'test credit');
      const created = await a.services.keys.create(accountId, 'k', 'inference', PREPAID_SPENDING);
      if (!created.ok) throw new Error(created.error);
      const { key } = created.value;
      const usagesBefore = upstream.usages.length;
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? a : b).app.inject({
            method: 'POST',
            url: '/v1/chat/completions',
            headers: { ...bearer(key), 'content-type': 'application/json' },
            payload: {
              model: 'deepseek/deepseek-v4-flash',
              max_tokens: 50,
              messages: [{ role: 'user', content: 'hi' }],
            },
          }),
        ),
      );
      expect(answers.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
      const charge = expectedCharge(upstream.usages.slice(usagesBefore));
      const found = await b.services.accounts.find(accountId);
      expect(await ledgerFigures(b.services.ledger, found?.availableMicros ?? Number.NaN, accountId)).toEqual(
        {
          sum: 1_000_000 - charge,
          balance: 1_000_000 - charge,
          settled: charge,
          openHolds: 0,
        },
      );
    });
  },
);
