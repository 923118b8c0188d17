import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { costOf } from '../../src/domain/pricing.js';
import { createTollgate, type Tollgate } from '../../src/main.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-openai-upstream.js';
import { TEST_KEY_SECRET } from '../support/harness.js';

/**
 * A model served by an ordered list of deployments: fallback when one fails before any byte
 * reached the client, retries with backoff, cooldown of a failing deployment, and a charge at the
 * price of the deployment that actually served.
 */
let primary: FakeUpstream;
let backup: FakeUpstream;
let slow: FakeUpstream;
let closedPort: number;
let tollgate: Tollgate;
let baseUrl: string;
let dir: string;

beforeAll(async () => {
  primary = await startFakeUpstream();
  backup = await startFakeUpstream();
  slow = await startFakeUpstream({ firstByteDelayMs: 2_000 });
  closedPort = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  dir = mkdtempSync(path.join(tmpdir(), 'tollgate-routing-'));
  const yaml = `
brand: llmbase
routing: { max_attempts: 3, retry_base_ms: 5, retry_max_ms: 50, cooldown_failures: 2, cooldown_seconds: 60 }
providers:
  - { id: primary, type: openai-compatible, base_url: "${primary.url}" }
  - { id: backup, type: openai-compatible, base_url: "${backup.url}", timeouts: { idle_ms: 300 } }
  - { id: down, type: openai-compatible, base_url: "http://127.0.0.1:${closedPort}/v1" }
  - { id: slow, type: openai-compatible, base_url: "${slow.url}", timeouts: { first_byte_ms: 200 } }
models:
  - id: routed
    deployments:
      - { provider: primary, upstream_model: primary-model }
      - { provider: backup, upstream_model: backup-model, output_usd_per_million: 2000 }
    input_usd_per_million: 1
    output_usd_per_million: 1000
    max_output_tokens: 100
  - id: single
    provider: primary
    upstream_model: primary-model
    input_usd_per_million: 1
    output_usd_per_million: 1000
    max_output_tokens: 100
  - id: via-slow
    deployments:
      - { provider: slow, upstream_model: slow-model }
      - { provider: backup, upstream_model: backup-model }
    input_usd_per_million: 1
    output_usd_per_million: 1000
    max_output_tokens: 100
  - id: via-down
    deployments:
      - { provider: down, upstream_model: x }
      - { provider: backup, upstream_model: backup-model }
    input_usd_per_million: 1
    output_usd_per_million: 1000
    max_output_tokens: 100
`;
  const env = {
    TOLLGATE_KEY_SECRET: TEST_KEY_SECRET,
    PORT: '0',
    TOLLGATE_DATABASE_URL: `sqlite:${path.join(dir, 't.db')}`,
  };
  tollgate = await createTollgate(parseConfig(yaml, 'routing.yaml', env), env, { logLevel: 'silent' });
  baseUrl = await tollgate.listen();
});

afterAll(async () => {
  tollgate.app.server.closeAllConnections();
  await tollgate.close();
  await primary.close();
  await backup.close();
  await slow.close();
  rmSync(dir, { recursive: true, force: true });
});

async function client(usd = '1') {
  const { accounts, keys } = tollgate.services;
  const account = await accounts.create(`routing-${Math.random()}@example.com`);
  if (!account.ok) throw new Error(account.error);
  await accounts.addCredits(account.value.id, Number(usd) * 1_000_000, 'test');
  const key = await keys.create(account.value.id, 'k', 'inference');
  if (!key.ok) throw new Error(key.error);
  return {
    accountId: account.value.id,
    sdk: new OpenAI({ apiKey: key.value.key, baseURL: `${baseUrl}/v1`, maxRetries: 0 }),
  };
}

async function settled(accountId: string): Promise<number> {
  const entries = await tollgate.services.ledger.entries(accountId);
  return entries.filter((e) => e.kind === 'settle').reduce((total, e) => total - e.amount, 0);
}

const messages = [{ role: 'user' as const, content: 'Hi' }];

async function usageRow(requestId: string | null) {
  // A lone request is answered once its settlement is journaled, and committed on the next turn of
  // the server's event loop (settlement-journal.ts): another connection reads it after that turn.
  await new Promise((resolve) => setImmediate(resolve));
  const db = new Database(path.join(dir, 't.db'), { readonly: true });
  try {
    return db
      .prepare('SELECT provider_id, upstream_model, status FROM usage_records WHERE request_id = ?')
      .get(requestId) as { provider_id: string; upstream_model: string; status: number } | undefined;
  } finally {
    db.close();
  }
}

describe('routing across deployments', () => {
  it('falls back when the first byte is too slow, and the usage record names the deployment that served', async () => {
    const { sdk } = await client();
    const { data, response } = await sdk.chat.completions
      .create({ model: 'via-slow', messages, max_tokens: 5 })
      .withResponse();
    expect(data.choices[0]?.message.content).toContain('tok0');
    expect(await usageRow(response.headers.get('x-request-id'))).toEqual({
      provider_id: 'backup',
      upstream_model: 'backup-model',
      status: 200,
    });
  });

  it('answers 502 for a malformed upstream answer, charging nothing', async () => {
    primary.options = { malformed: true };
    try {
      const { sdk, accountId } = await client();
      const error = await sdk.chat.completions.create({ model: 'single', messages }).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 502, code: 'upstream_error' });
      expect(await settled(accountId)).toBe(0);
    } finally {
      primary.options = {};
    }
  });

  it('falls back to the next deployment on a 5xx and charges the price of the one that served', async () => {
    primary.options = { failStatus: 500 };
    try {
      const { sdk, accountId } = await client();
      const before = { primary: primary.received.length, backup: backup.received.length };
      const completion = await sdk.chat.completions.create({ model: 'routed', messages, max_tokens: 10 });
      expect(completion.choices[0]?.message.content).toContain('tok0');
      expect(primary.received.length - before.primary).toBe(1);
      expect(backup.received.length - before.backup).toBe(1);
      expect(backup.received.at(-1)?.body.model).toBe('backup-model');
      const usage = backup.usages.at(-1)!;
      const backupPrice = { inputMicrosPerMillion: 1_000_000, outputMicrosPerMillion: 2_000_000_000 };
      expect(await settled(accountId)).toBe(
        costOf(backupPrice, { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens }),
      );
    } finally {
      primary.options = {};
    }
  });

  it('falls back when a deployment refuses the connection', async () => {
    const { sdk } = await client();
    const completion = await sdk.chat.completions.create({ model: 'via-down', messages, max_tokens: 5 });
    expect(completion.choices[0]?.message.content).toContain('tok0');
  });

  it('retries a single deployment after a 429 that says how long to wait, within the attempt limit', async () => {
    primary.options = { failStatus: 429, failTimes: 2, failHeaders: { 'retry-after-ms': '10' } };
    try {
      const { sdk, accountId } = await client();
      const before = primary.received.length;
      const completion = await sdk.chat.completions.create({ model: 'single', messages, max_tokens: 5 });
      expect(completion.choices[0]?.finish_reason).toBeDefined();
      expect(primary.received.length - before).toBe(3);
      // Only the attempt that answered is charged.
      const usage = primary.usages.at(-1)!;
      expect(await settled(accountId)).toBe(
        costOf(
          { inputMicrosPerMillion: 1_000_000, outputMicrosPerMillion: 1_000_000_000 },
          { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens },
        ),
      );
    } finally {
      primary.options = {};
    }
  });

  it('gives up after the attempt limit with the last failure, charging nothing', async () => {
    primary.options = { failStatus: 503 };
    try {
      const { sdk, accountId } = await client();
      const before = primary.received.length;
      const error = await sdk.chat.completions.create({ model: 'single', messages }).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 502, code: 'upstream_error' });
      expect(primary.received.length - before).toBe(3);
      expect(await settled(accountId)).toBe(0);
    } finally {
      primary.options = {};
    }
  });

  it('skips a deployment that keeps failing until its cooldown ends', async () => {
    // The 503s of the previous test put the primary into cooldown: the routed model goes straight to the backup.
    const { sdk } = await client();
    const before = { primary: primary.received.length, backup: backup.received.length };
    await sdk.chat.completions.create({ model: 'routed', messages, max_tokens: 5 });
    expect(primary.received.length - before.primary).toBe(0);
    expect(backup.received.length - before.backup).toBe(1);
  });

  it('never retries once bytes reached the client: a stalled stream ends with an error event', async () => {
    backup.options = { stallAfterTokens: 2 };
    try {
      const { sdk } = await client();
      const before = backup.received.length;
      // The primary is cooling down, so the backup serves; it stalls after two tokens.
      const stream = await sdk.chat.completions.create({ model: 'routed', messages, stream: true });
      const error = await (async () => {
        for await (const _ of stream) {
          // read until the error
        }
      })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(backup.received.length - before).toBe(1);
    } finally {
      backup.options = {};
    }
  });
});
