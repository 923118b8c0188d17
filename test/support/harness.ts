import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/load-config.js';
import type { KeyType } from '../../src/domain/api-key.js';
import { parseUsd } from '../../src/domain/money.js';
import { costOf, type ModelPrice } from '../../src/domain/pricing.js';
import { createTollgate, type Tollgate } from '../../src/main.js';
import { type FakeUpstream, type FakeUpstreamOptions, startFakeUpstream } from './fake-openai-upstream.js';

/** A secret for tests only: it protects nothing but throwaway keys in a temporary database. */
export const TEST_KEY_SECRET = 'test-only-secret-0123456789abcdef0123456789';

/** $1 per million input tokens and $1000 per million output tokens: 1 and 1000 micro-USD a token. */
export const TEST_PRICE: ModelPrice = {
  inputMicrosPerMillion: 1_000_000,
  outputMicrosPerMillion: 1_000_000_000,
};

export interface HarnessOptions {
  readonly upstream?: FakeUpstreamOptions;
  /** Overrides for the provider block, e.g. timeouts. */
  readonly providerYaml?: string;
  /** Point the provider somewhere else (an unreachable port, say). */
  readonly upstreamUrl?: string;
  readonly providerType?: 'openai-compatible' | 'anthropic' | 'gemini';
  /** Environment for the provider key that providerYaml names. */
  readonly env?: Record<string, string>;
}

export interface Harness {
  readonly tollgate: Tollgate;
  readonly upstream: FakeUpstream;
  /** http://127.0.0.1:PORT, set once listen() has been called. */
  baseUrl: string;
  readonly logs: string[];
  listen(): Promise<string>;
  /** An account with `usd` of prepaid credit and one key of the given type. */
  seed(options?: { usd?: string; type?: KeyType; email?: string }): Promise<Seeded>;
  /** Checks the account's ledger: entries sum to the balance and no hold is left open. */
  ledgerOf(accountId: string): Promise<{ sum: number; balance: number; settled: number; openHolds: number }>;
  close(): Promise<void>;
}

export interface Seeded {
  readonly accountId: string;
  readonly keyId: string;
  readonly key: string;
}

export function configYaml(
  upstreamUrl: string,
  providerYaml = '',
  providerType = 'openai-compatible',
): string {
  return `
brand: llmbase
server:
  body_limit_bytes: 65536
# Short backoff keeps the suite fast; the retry logic is the same.
routing:
  retry_base_ms: 5
  retry_max_ms: 50
providers:
  - id: fake
    type: ${providerType}
    base_url: ${upstreamUrl}
${providerYaml}
models:
  - id: deepseek/deepseek-v4-flash
    aliases: [flash]
    provider: fake
    upstream_model: fake-model
    input_usd_per_million: 1
    output_usd_per_million: 1000
    max_output_tokens: 1000
  - id: mistral
    provider: fake
    upstream_model: fake-mistral
    input_usd_per_million: 0.25
    output_usd_per_million: 0.25
    max_output_tokens: 4096
`;
}

let emails = 0;

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-test-'));
  const upstream = await startFakeUpstream(options.upstream);
  const env = { TOLLGATE_KEY_SECRET: TEST_KEY_SECRET, PORT: '0', HOST: '127.0.0.1', ...options.env };
  const config = parseConfig(
    configYaml(options.upstreamUrl ?? upstream.url, options.providerYaml, options.providerType),
    'test.yaml',
    {
      ...env,
      TOLLGATE_DATABASE_URL: `sqlite:${path.join(dir, 'tollgate.db')}`,
    },
  );
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const tollgate = await createTollgate(config, env, { logLevel: 'info', logStream, accessLog: true });
  const harness: Harness = {
    tollgate,
    upstream,
    baseUrl: '',
    logs,
    async listen() {
      harness.baseUrl = await tollgate.listen();
      return harness.baseUrl;
    },
    async seed(seedOptions = {}) {
      const { accounts, keys } = tollgate.services;
      const account = await accounts.create(
        seedOptions.email ?? `user${++emails}-${process.pid}@example.com`,
      );
      if (!account.ok) throw new Error(account.error);
      const usd = parseUsd(seedOptions.usd ?? '10');
      if (usd === undefined) throw new Error('bad usd');
      if (usd > 0) await accounts.addCredits(account.value.id, usd, 'test credit');
      const created = await keys.create(account.value.id, 'test key', seedOptions.type ?? 'inference');
      if (!created.ok) throw new Error(created.error);
      return { accountId: account.value.id, keyId: created.value.record.id, key: created.value.key };
    },
    async ledgerOf(accountId) {
      const entries = await tollgate.services.ledger.entries(accountId);
      const account = await tollgate.services.accounts.find(accountId);
      const holds = new Set(entries.filter((e) => e.kind === 'hold').map((e) => e.holdId));
      for (const e of entries) if (e.kind === 'release') holds.delete(e.holdId);
      return {
        sum: entries.reduce((total, e) => total + e.amount, 0),
        balance: account?.availableMicros ?? Number.NaN,
        settled: entries.filter((e) => e.kind === 'settle').reduce((total, e) => total - e.amount, 0),
        openHolds: holds.size,
      };
    },
    async close() {
      // A client may have opened a connection it never used; Node waits for those on close, so cut them.
      tollgate.app.server.closeAllConnections();
      await tollgate.close();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** What the upstream's reported usages cost at the test price: the ledger must settle exactly this. */
export function expectedCharge(
  usages: readonly { prompt_tokens: number; completion_tokens: number }[],
  price = TEST_PRICE,
) {
  return usages.reduce(
    (total, u) =>
      total + costOf(price, { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens }),
    0,
  );
}

export function bearer(key: string): { authorization: string } {
  return { authorization: `Bearer ${key}` };
}

/** Polls until `check` passes or the bound runs out; for effects that land just after a response. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
