import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { PREPAID_SPENDING } from '../../src/domain/key-spending.js';
import { createTollgate, type Tollgate } from '../../src/main.js';
import type { PostgresLedger } from '../../src/store/postgres-ledger.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-openai-upstream.js';
import { bearer, configYaml, TEST_KEY_SECRET } from '../support/harness.js';
import { chargesByPool, ledgerFigures } from '../support/ledger-figures.js';
import { type PostgresServer, postgresMissing, startPostgres } from '../support/real-servers.js';

const skip = postgresMissing();

interface Served {
  readonly tollgate: Tollgate;
  readonly logs: string[];
}

const CHAT = {
  model: 'deepseek/deepseek-v4-flash',
  max_tokens: 20,
  messages: [{ role: 'user', content: 'hi' }],
};

/** The smallest timeout the configuration accepts: an instance fences itself 1 s after its last heartbeat. */
const CLUSTER_YAML = 'cluster:\n  instance_timeout_seconds: 2\n';

describe.skipIf(skip !== undefined)(
  skip ? `a database that cannot be used (skipped: ${skip})` : 'a database that cannot be used',
  () => {
    let postgres: PostgresServer;
    let upstream: FakeUpstream;
    let url: string;
    const started: Tollgate[] = [];

    async function serve(): Promise<Served> {
      const env = { TOLLGATE_KEY_SECRET: TEST_KEY_SECRET, PORT: '0', HOST: '127.0.0.1' };
      const config = parseConfig(
        configYaml(upstream.url, '', 'openai-compatible', CLUSTER_YAML),
        'test.yaml',
        {
          ...env,
          TOLLGATE_DATABASE_URL: url,
        },
      );
      const logs: string[] = [];
      const logStream = new Writable({
        write(chunk: Buffer, _encoding, done) {
          logs.push(chunk.toString('utf8'));
          done();
        },
      });
      const tollgate = await createTollgate(config, env, { logLevel: 'info', logStream });
      started.push(tollgate);
      return { tollgate, logs };
    }

    async function seed(tollgate: Tollgate, email: string, type: 'inference' | 'chat_agent' = 'inference') {
      const account = await tollgate.services.accounts.create(email);
      if (!account.ok) throw new Error(account.error);
      await tollgate.services.accounts.addCredits(account.value.id, 1_000_000, 'test credit');
      const created = await tollgate.services.keys.create(account.value.id, 'k', type, PREPAID_SPENDING);
      if (!created.ok) throw new Error(created.error);
      return { accountId: account.value.id, key: created.value.key };
    }

    const chat = (tollgate: Tollgate, key: string, base = '/v1') =>
      tollgate.app.inject({
        method: 'POST',
        url: `${base}/chat/completions`,
        headers: { ...bearer(key), 'content-type': 'application/json' },
        payload: CHAT,
      });

    const refusalsLogged = (logs: string[], reason: string) =>
      logs.filter((line) => line.includes(`"reason":"${reason}"`)).length;

    beforeAll(async () => {
      postgres = await startPostgres();
      upstream = await startFakeUpstream();
      url = await postgres.createDatabase();
    }, 60_000);

    afterAll(async () => {
      // The second test stopped the database: leaving the instance table then fails, and that is
      // not what these tests are about.
      for (const tollgate of started) await tollgate.close().catch(() => {});
      await upstream?.close();
      await postgres?.stop();
    });

    it('an instance whose ledger stopped reaching the database answers 503 with retry-after on /v1 and the agents API, logs it once, counts it, and charges nothing', async () => {
      const { tollgate, logs } = await serve();
      const inference = await seed(tollgate, 'fenced@example.com');
      const agent = await seed(tollgate, 'fenced-agent@example.com', 'chat_agent');
      // Both keys are in the credential cache, so only the ledger's fence stands in the way (the
      // agent key has no Pro chat plan and no prepaid room for it: 402, but authenticated).
      expect((await chat(tollgate, inference.key)).statusCode).toBe(200);
      expect((await chat(tollgate, agent.key, '/api/v1/agents')).statusCode).toBe(402);
      const ledger = tollgate.services.ledger as PostgresLedger;
      const before = await ledgerFigures(
        ledger,
        (await tollgate.services.accounts.find(inference.accountId))?.availableMicros ?? Number.NaN,
        inference.accountId,
      );
      const calls = upstream.received.length;
      // The heartbeat stops, as it does when the database stops answering this instance.
      ledger.instance.halt();
      await new Promise((resolve) => setTimeout(resolve, 1_100));

      const answers = [
        await chat(tollgate, inference.key),
        await chat(tollgate, inference.key),
        await chat(tollgate, agent.key, '/api/v1/agents'),
      ];
      for (const answer of answers) {
        expect(answer.statusCode).toBe(503);
        expect(answer.headers['retry-after']).toBe('1');
        expect(answer.headers['content-type']).toMatch(/^application\/json/);
        expect(answer.json()).toEqual({
          error: {
            message: expect.stringContaining('Retry shortly'),
            type: 'api_error',
            code: 'service_unavailable',
            param: null,
          },
        });
      }
      expect(upstream.received.length).toBe(calls);
      const after = await ledgerFigures(
        ledger,
        (await tollgate.services.accounts.find(inference.accountId))?.availableMicros ?? Number.NaN,
        inference.accountId,
      );
      expect(after).toEqual(before);
      expect(after.openHolds).toBe(0);
      expect(refusalsLogged(logs, 'instance_fenced')).toBe(1);
      expect(logs.filter((line) => line.includes('unhandled error'))).toEqual([]);
      expect(await tollgate.services.metrics.exposition()).toContain(
        'tollgate_unavailable_refusals_total{reason="instance_fenced"} 3',
      );
    });

    it('a stream whose settlement met the database down ends with an error event, not [DONE], and is charged once when it is back', async () => {
      const { tollgate, logs } = await serve();
      const { accountId, key } = await seed(tollgate, 'outage-stream@example.com');
      const ledger = tollgate.services.ledger as PostgresLedger;
      const before = await ledger.available(accountId);
      const options = upstream.options;
      // Twenty tokens 100 ms apart: the database is down well before the stream ends.
      upstream.options = { ...options, replyTokens: 20, chunkIntervalMs: 100 };
      let body: string;
      try {
        const answer = tollgate.app.inject({
          method: 'POST',
          url: '/v1/chat/completions',
          headers: { ...bearer(key), 'content-type': 'application/json' },
          payload: { ...CHAT, stream: true },
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        await postgres.halt();
        body = (await answer).body;
      } finally {
        upstream.options = options;
        await postgres.restart();
      }
      // Every token reached the client, then an error event instead of [DONE]: not a complete answer.
      expect(body).toContain('tok19');
      expect(body).not.toContain('[DONE]');
      const events = body.split('\n\n').filter((event) => event.startsWith('data: '));
      expect(JSON.parse(events.at(-1)!.slice('data: '.length))).toEqual({
        error: {
          message: expect.stringContaining('charged once the database is back'),
          type: 'api_error',
          code: 'service_unavailable',
          param: null,
        },
      });
      const deadline = Date.now() + 20_000;
      // The database answers again; the kept settlement is retried within its backoff (at most 8 s).
      for (;;) {
        const charged = await chargesByPool(ledger, accountId).catch(() => undefined);
        if (charged && charged.prepaid > 0) break;
        if (Date.now() > deadline) throw new Error('the kept settlement was never written');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const charged = await chargesByPool(ledger, accountId);
      expect(charged.prepaid).toBeGreaterThan(0);
      expect(await ledger.available(accountId)).toBe((before ?? Number.NaN) - charged.prepaid);
      const settlements = (await ledger.entries(accountId)).filter((entry) => entry.kind === 'settle');
      expect(settlements).toHaveLength(1);
      expect(logs.some((line) => line.includes('closing kept for retry'))).toBe(true);
      expect(await tollgate.services.metrics.exposition()).toContain(
        'tollgate_closing_retries_total{outcome="closed"} 1',
      );
    }, 60_000);

    it('a database that cannot be reached at all gets a 503, not a 500, on the API and the dashboard, and the provider is never called', async () => {
      const { tollgate, logs } = await serve();
      const { key } = await seed(tollgate, 'unreachable@example.com');
      // Never used, so never cached: its request has to read the database to authenticate.
      const { key: uncached } = await seed(tollgate, 'uncached@example.com');
      expect((await chat(tollgate, key)).statusCode).toBe(200);
      const calls = upstream.received.length;
      await postgres.stop();
      // Before the fence (1 s), so the pool's connection errors are what the request meets.
      const answer = await chat(tollgate, key);
      expect(answer.statusCode).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.json().error.code).toBe('service_unavailable');
      expect(upstream.received.length).toBe(calls);
      expect(refusalsLogged(logs, 'database_unreachable')).toBe(1);
      expect(logs.filter((line) => line.includes('unhandled error'))).toEqual([]);
      // A key the cache has never seen meets the missing database at authentication: the same 503.
      const unauthenticated = await chat(tollgate, uncached);
      expect(unauthenticated.statusCode).toBe(503);
      expect(unauthenticated.json().error.code).toBe('service_unavailable');
      // The dashboard answers in its own envelope.
      const signIn = await tollgate.app.inject({
        method: 'POST',
        url: '/dashboard/api/auth/login',
        headers: { 'content-type': 'application/json' },
        payload: { email: 'someone@example.com', password: 'correct horse battery staple' },
      });
      expect(signIn.statusCode).toBe(503);
      expect(signIn.headers['retry-after']).toBe('1');
      expect(signIn.json()).toEqual({
        error: { code: 'service_unavailable', message: expect.stringContaining('database') },
      });
      expect(logs.filter((line) => line.includes('unhandled'))).toEqual([]);
      expect(refusalsLogged(logs, 'database_unreachable')).toBe(1);
    });
  },
);
