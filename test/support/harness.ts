import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import SqliteDatabase from 'better-sqlite3';
import { parseConfig } from '../../src/config/load-config.js';
import type { KeyType } from '../../src/domain/api-key.js';
import { type KeySpending, PREPAID_SPENDING } from '../../src/domain/key-spending.js';
import { parseUsd } from '../../src/domain/money.js';
import { costOf, type ModelPrice } from '../../src/domain/pricing.js';
import { createTollgate, type Tollgate } from '../../src/main.js';
import type { Clock } from '../../src/ports/system.js';
import { type FakeUpstream, type FakeUpstreamOptions, startFakeUpstream } from './fake-openai-upstream.js';
import { chargesByPool, type LedgerFigures, ledgerFigures, type PoolCharges } from './ledger-figures.js';

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
  /** Top-level YAML appended to the configuration: plans, base_url_aliases, billing. */
  readonly extraYaml?: string;
  /** Settings added to the first model (flash), such as allow_fields or image_tokens. */
  readonly modelYaml?: string;
  readonly clock?: Clock;
  /** The SQLite file to serve, such as one a crashed server left; by default a new one. */
  readonly databaseFile?: string;
  /** Lines inside the `dashboard:` block (indented two spaces): signup, session timeouts. */
  readonly dashboardYaml?: string;
  /** Lines inside the `server:` block (indented two spaces): public_url, trust_proxy. */
  readonly serverYaml?: string;
  /** The built web app to serve; by default a directory with no build in it. */
  readonly webRoot?: string;
}

export interface Harness {
  readonly tollgate: Tollgate;
  readonly upstream: FakeUpstream;
  /** http://127.0.0.1:PORT, set once listen() has been called. */
  baseUrl: string;
  readonly logs: string[];
  readonly databaseFile: string;
  listen(): Promise<string>;
  /** An account with `usd` of prepaid credit, subscribed to `plans`, and one key of the given type. */
  seed(options?: SeedOptions): Promise<Seeded>;
  /** Checks the account's prepaid ledger: entries sum to the balance and no hold is left open. */
  ledgerOf(accountId: string): Promise<LedgerFigures>;
  /** What each pool of the account has been charged, from the ledger's settle entries. */
  chargedByPool(accountId: string): Promise<PoolCharges>;
  close(): Promise<void>;
}

export interface SeedOptions {
  readonly usd?: string;
  readonly type?: KeyType;
  readonly email?: string;
  readonly spending?: KeySpending;
  readonly plans?: readonly string[];
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
  extraYaml = '',
  modelYaml = '',
  dashboardYaml = '',
  serverYaml = '',
): string {
  return `
brand: llmbase
server:
  body_limit_bytes: 65536
${serverYaml}
# The cheapest argon2id: the suite signs in hundreds of times; production keeps OWASP's cost.
dashboard:
  password_hashing: { memory_kib: 64, iterations: 1 }
${dashboardYaml}
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
${modelYaml}
  - id: mistral
    provider: fake
    upstream_model: fake-mistral
    input_usd_per_million: 0.25
    output_usd_per_million: 0.25
    max_output_tokens: 4096
${extraYaml}
`;
}

let emails = 0;

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-test-'));
  const databaseFile = options.databaseFile ?? path.join(dir, 'tollgate.db');
  const upstream = await startFakeUpstream(options.upstream);
  const env = { TOLLGATE_KEY_SECRET: TEST_KEY_SECRET, PORT: '0', HOST: '127.0.0.1', ...options.env };
  const config = parseConfig(
    configYaml(
      options.upstreamUrl ?? upstream.url,
      options.providerYaml,
      options.providerType,
      options.extraYaml,
      options.modelYaml,
      options.dashboardYaml,
      options.serverYaml,
    ),
    'test.yaml',
    {
      ...env,
      TOLLGATE_DATABASE_URL: `sqlite:${databaseFile}`,
    },
  );
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const tollgate = await createTollgate(config, env, {
    logLevel: 'info',
    logStream,
    accessLog: true,
    webRoot: options.webRoot ?? path.join(dir, 'no-web-build'),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const harness: Harness = {
    tollgate,
    upstream,
    baseUrl: '',
    logs,
    databaseFile,
    async listen() {
      harness.baseUrl = await tollgate.listen();
      return harness.baseUrl;
    },
    async seed(seedOptions = {}) {
      const { accounts, keys, subscriptions } = tollgate.services;
      const account = await accounts.create(
        seedOptions.email ?? `user${++emails}-${process.pid}@example.com`,
      );
      if (!account.ok) throw new Error(account.error);
      const usd = parseUsd(seedOptions.usd ?? '10');
      if (usd === undefined) throw new Error('bad usd');
      if (usd > 0) await accounts.addCredits(account.value.id, usd, 'test credit');
      for (const plan of seedOptions.plans ?? []) {
        const subscribed = await subscriptions.set(account.value.id, plan);
        if (!subscribed.ok) throw new Error(subscribed.error);
      }
      const created = await keys.create(
        account.value.id,
        'test key',
        seedOptions.type ?? 'inference',
        seedOptions.spending ?? PREPAID_SPENDING,
      );
      if (!created.ok) throw new Error(created.error);
      return { accountId: account.value.id, keyId: created.value.record.id, key: created.value.key };
    },
    async ledgerOf(accountId) {
      // Reading the entries commits what the SQLite ledger has only journaled, so that the
      // account's stored balance read next includes every answered request.
      await tollgate.services.ledger.entries(accountId);
      const account = await tollgate.services.accounts.find(accountId);
      return ledgerFigures(tollgate.services.ledger, account?.availableMicros ?? Number.NaN, accountId);
    },
    chargedByPool: (accountId) => chargesByPool(tollgate.services.ledger, accountId),
    async close() {
      // A client may have opened a connection it never used; Node waits for those on close, so cut them.
      tollgate.app.server.closeAllConnections();
      await tollgate.close();
      await upstream.close();
      try {
        reconcileDatabase(databaseFile);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
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
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * After every suite that used a harness: each account's prepaid entries sum to its balance, no
 * hold is left open, and what each pool was charged in the ledger equals what the usage records say
 * it paid. Throws (failing the suite) otherwise.
 */
function reconcileDatabase(file: string): void {
  const db = new SqliteDatabase(file, { readonly: true });
  try {
    const problems: string[] = [];
    const accounts = db.prepare('SELECT id, available_micros FROM accounts').all() as {
      id: string;
      available_micros: number;
    }[];
    for (const account of accounts) {
      const prepaid = db
        .prepare(
          `SELECT COALESCE(SUM(amount_micros), 0) AS sum FROM ledger_entries WHERE account_id = ? AND pool = 'prepaid'`,
        )
        .get(account.id) as { sum: number };
      if (prepaid.sum !== account.available_micros) {
        problems.push(
          `${account.id}: prepaid entries sum to ${prepaid.sum}, balance is ${account.available_micros}`,
        );
      }
      const open = db
        .prepare(
          `SELECT COUNT(*) AS n FROM ledger_entries h WHERE h.account_id = ? AND h.kind = 'hold'
             AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.hold_id = h.hold_id AND r.pool = h.pool AND r.kind = 'release')`,
        )
        .get(account.id) as { n: number };
      if (open.n > 0) problems.push(`${account.id}: ${open.n} hold(s) never released`);
      const ledger = db
        .prepare(
          `SELECT pool, -SUM(amount_micros) AS charged FROM ledger_entries WHERE account_id = ? AND kind = 'settle' GROUP BY pool`,
        )
        .all(account.id) as { pool: string; charged: number }[];
      const recorded: Record<string, number> = {};
      for (const row of db
        .prepare('SELECT pools FROM usage_records WHERE account_id = ?')
        .all(account.id) as {
        pools: string;
      }[]) {
        for (const [pool, micros] of Object.entries(JSON.parse(row.pools) as Record<string, number>)) {
          recorded[pool] = (recorded[pool] ?? 0) + micros;
        }
      }
      for (const pool of new Set([...ledger.map((r) => r.pool), ...Object.keys(recorded)])) {
        const inLedger = ledger.find((r) => r.pool === pool)?.charged ?? 0;
        if (inLedger !== (recorded[pool] ?? 0)) {
          problems.push(
            `${account.id}: pool ${pool} charged ${inLedger} in the ledger, ${recorded[pool] ?? 0} in usage records`,
          );
        }
      }
    }
    if (problems.length > 0) throw new Error(`the ledger does not reconcile:\n${problems.join('\n')}`);
  } finally {
    db.close();
  }
}
