import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../test/support/fake-openai-upstream.js';
import { parseConfig } from '../config/load-config.js';
import { requireProviderKeys } from '../config/secrets.js';
import { UpstreamFailure } from '../ports/upstream.js';
import { UndiciUpstreams } from './undici-upstreams.js';

/** Weighted load balancing across the endpoints (keys and base URLs) of one provider. */
let a: FakeUpstream;
let b: FakeUpstream;

beforeAll(async () => {
  a = await startFakeUpstream({ expectedKey: 'key-a' });
  b = await startFakeUpstream({ expectedKey: 'key-b' });
});
afterAll(async () => {
  await a.close();
  await b.close();
});

describe('provider endpoints', () => {
  it('shares requests out by weight, each with its own key and base URL', async () => {
    const env = { KEY_A: 'key-a', KEY_B: 'key-b' };
    const config = parseConfig(
      `
brand: llmbase
providers:
  - id: shared
    type: openai-compatible
    base_url: ${a.url}
    endpoints:
      - { api_key_env: KEY_A, weight: 3 }
      - { base_url: "${b.url}", api_key_env: KEY_B, weight: 1 }
models:
  - { id: m, provider: shared, upstream_model: fake, input_usd_per_million: 1, output_usd_per_million: 1, max_output_tokens: 10 }
`,
      'lb.yaml',
      env,
    );
    // A fixed sequence in place of Math.random: of a total weight of 4, tickets 0.4, 2 and 2.8 fall on the first endpoint, 3.6 on the second.
    const tickets = [0.1, 0.5, 0.7, 0.9];
    let next = 0;
    const upstreams = new UndiciUpstreams(
      config.providers,
      requireProviderKeys(config, env),
      () => tickets[next++ % 4]!,
    );
    try {
      const body = JSON.stringify({ model: 'fake', messages: [{ role: 'user', content: 'Hi' }] });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await upstreams.postJson('shared', '/chat/completions', body);
        for await (const _ of response.body) {
          // drain
        }
        statuses.push(response.status);
      }
      expect(statuses).toEqual([200, 200, 200, 200]);
      expect(a.received).toHaveLength(3);
      expect(b.received).toHaveLength(1);
      expect(b.received[0]?.headers.authorization).toBe('Bearer key-b');
    } finally {
      await upstreams.close();
    }
  });
});

/** A provider that answers every request through `answer`, for bodies the fake upstream never sends. */
async function rawProvider(answer: (res: ServerResponse) => void) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const config = parseConfig(
    `
brand: llmbase
providers:
  - { id: raw, type: openai-compatible, base_url: "http://127.0.0.1:${port}/v1", timeouts: { idle_ms: 150 } }
models:
  - { id: m, provider: raw, upstream_model: fake, input_usd_per_million: 1, output_usd_per_million: 1, max_output_tokens: 10 }
`,
    'raw.yaml',
    {},
  );
  const upstreams = new UndiciUpstreams(config.providers, requireProviderKeys(config, {}));
  return {
    read: async (limit: number) => {
      const response = await upstreams.postJson('raw', '/chat/completions', '{}');
      return response.readAll(limit);
    },
    async close() {
      await upstreams.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('reading a whole answer', () => {
  it('joins a body that arrives in pieces, byte for byte', async () => {
    const pieces = ['{"id":"a",', '"choices":[],', '"usage":{"prompt_tokens":1}}'];
    const provider = await rawProvider((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let i = 0;
      const next = () => {
        if (i === pieces.length) return res.end();
        res.write(pieces[i++]);
        setTimeout(next, 10);
      };
      next();
    });
    try {
      expect((await provider.read(1024)).toString()).toBe(pieces.join(''));
    } finally {
      await provider.close();
    }
  });

  it('refuses an answer past the limit as an unavailable upstream, without reading the rest', async () => {
    const provider = await rawProvider((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('x'.repeat(64 * 1024));
    });
    try {
      const refused = await provider.read(1024).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(UpstreamFailure);
      expect(refused).toMatchObject({ kind: 'unavailable' });
    } finally {
      await provider.close();
    }
  });

  it('turns a body that stops arriving into a timeout', async () => {
    const provider = await rawProvider((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":');
      // …and nothing more: the provider's idle timeout (150 ms) ends the wait.
    });
    try {
      const refused = await provider.read(1024).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(UpstreamFailure);
      expect(refused).toMatchObject({ kind: 'timeout' });
    } finally {
      await provider.close();
    }
  });
});

describe('two providers on one host', () => {
  it('each keep their own first-byte timeout and connection limit', async () => {
    // /stall never answers; /ok answers at once. Both providers point at this one origin.
    const server = createServer((req, res) => {
      req.resume();
      if (req.url?.startsWith('/stall')) return;
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const config = parseConfig(
      `
brand: llmbase
providers:
  - { id: patient, type: openai-compatible, base_url: "http://127.0.0.1:${port}/stall", max_connections: 1 }
  - { id: quick, type: openai-compatible, base_url: "http://127.0.0.1:${port}/stall", timeouts: { first_byte_ms: 700 } }
  - { id: other, type: openai-compatible, base_url: "http://127.0.0.1:${port}/ok", max_connections: 4 }
models:
  - { id: m, provider: patient, upstream_model: fake, input_usd_per_million: 1, output_usd_per_million: 1, max_output_tokens: 10 }
`,
      'shared-host.yaml',
      {},
    );
    const upstreams = new UndiciUpstreams(config.providers, requireProviderKeys(config, {}));
    const within = <T>(ms: number, promise: Promise<T>) =>
      Promise.race([
        promise,
        new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), ms).unref()),
      ]);
    try {
      // The first provider's only connection is taken by a request that never gets an answer.
      const hanging = upstreams.postJson('patient', '/chat/completions', '{}').catch(() => undefined);
      // The second provider on the same host times out at its own 700 ms, not the first's 120 s.
      const started = Date.now();
      const quick = await within(
        10_000,
        upstreams.postJson('quick', '/chat/completions', '{}').catch((error: unknown) => error),
      );
      expect(quick).toBeInstanceOf(UpstreamFailure);
      expect(quick).toMatchObject({ kind: 'timeout' });
      expect(Date.now() - started).toBeLessThan(5_000);
      // A third provider is not queued behind the first one's single connection.
      const other = await within(10_000, upstreams.postJson('other', '/chat/completions', '{}'));
      expect(other).toMatchObject({ status: 200 });
      void hanging;
    } finally {
      // Bounded, so that a failure above is reported instead of a hang on the queued requests.
      const closing = upstreams.close().catch(() => undefined);
      server.closeAllConnections();
      await within(2_000, closing);
      server.closeAllConnections();
      await within(2_000, new Promise((resolve) => server.close(resolve)));
    }
  }, 30_000);
});
