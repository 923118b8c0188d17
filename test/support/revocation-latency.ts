import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BIN } from './cli-server.js';

/**
 * How long an instance keeps accepting a key that was revoked elsewhere (issue 16, §6): for each
 * trial, a fresh key is polled on instance B every few milliseconds, from before the revocation
 * until B answers 401 `api_key_revoked`; the revocation goes through instance A or the CLI.
 *
 * A trial's figure is the time from the revocation taking effect to the answer of B's first
 * refusal: an upper bound of the time B accepted the key (it accepted it no later than that). When
 * the revocation takes effect is, by default, when `revoke` resolves (A answered, the CLI exited);
 * give `effectiveAt` (the key's `revoked_at` from the database, say) for the commit's own time:
 * the CLI takes a second or more to exit, and B may refuse the key before it has.
 */
export interface RevocationLatencyOptions {
  /** Instance B: where the key is polled, e.g. http://127.0.0.1:8081. */
  readonly observerUrl: string;
  /** A new key of a funded, active account, and its id: one per trial. */
  newKey(): Promise<{ key: string; keyId: string }>;
  /** Revokes through instance A (see `dashboardRevoker`) or the CLI (see `cliRevoker`). */
  revoke(keyId: string): Promise<void>;
  /** When the revocation took effect, in ms since the epoch; default: when `revoke` resolved. */
  effectiveAt?(keyId: string): Promise<number>;
  readonly trials?: number;
  readonly pollEveryMs?: number;
  /** A trial whose key is still accepted this long after its revocation fails the measurement. */
  readonly giveUpAfterMs?: number;
  /** What B is asked (an authenticated GET that costs nothing): default /v1/balance. */
  readonly path?: string;
}

export interface RevocationLatency {
  readonly trials: number;
  /** Per trial, in order, in ms. */
  readonly samplesMs: readonly number[];
  readonly worstMs: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  /** Counts per bucket of 100 ms: `0-99`, `100-199`, …, and `≥1000`. */
  readonly histogram: Readonly<Record<string, number>>;
}

export async function measureRevocationLatency(
  options: RevocationLatencyOptions,
): Promise<RevocationLatency> {
  const trials = options.trials ?? 20;
  const samples: number[] = [];
  for (let trial = 0; trial < trials; trial++) samples.push(await oneTrial(options));
  return summarise(samples);
}

async function oneTrial(options: RevocationLatencyOptions): Promise<number> {
  const pollEveryMs = options.pollEveryMs ?? 5;
  const giveUpAfterMs = options.giveUpAfterMs ?? 30_000;
  const url = new URL(options.path ?? '/v1/balance', options.observerUrl).toString();
  const { key, keyId } = await options.newKey();
  const ask = async (): Promise<'accepted' | 'revoked'> => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
    const body = await response.text();
    if (response.ok) return 'accepted';
    if (response.status === 401 && errorCode(body) === 'api_key_revoked') return 'revoked';
    throw new Error(`${url} answered ${response.status}: ${body.slice(0, 200)}`);
  };
  // B must know the key before the revocation: that is the cache the revocation must reach.
  if ((await ask()) !== 'accepted') throw new Error(`instance B refused key ${keyId} before its revocation`);

  let refusedAt: number | undefined;
  let failure: unknown;
  let stop = false;
  const polling = (async () => {
    try {
      while (!stop && refusedAt === undefined) {
        if ((await ask()) === 'revoked') refusedAt = Date.now();
        else await sleep(pollEveryMs);
      }
    } catch (error) {
      failure = error;
    }
  })();
  let revokedAt: number;
  try {
    await options.revoke(keyId);
    revokedAt = options.effectiveAt ? await options.effectiveAt(keyId) : Date.now();
    const deadline = revokedAt + giveUpAfterMs;
    while (refusedAt === undefined && failure === undefined && Date.now() < deadline)
      await sleep(pollEveryMs);
  } finally {
    stop = true;
    await polling;
  }
  if (failure !== undefined) throw failure;
  if (refusedAt === undefined)
    throw new Error(`instance B still accepted key ${keyId} ${giveUpAfterMs} ms after its revocation`);
  return Math.max(0, refusedAt - revokedAt);
}

export function summarise(samplesMs: readonly number[]): RevocationLatency {
  if (samplesMs.length === 0) throw new Error('no trials');
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  const histogram: Record<string, number> = {};
  for (const ms of sorted) {
    const bucket = ms >= 1_000 ? '≥1000' : `${Math.floor(ms / 100) * 100}-${Math.floor(ms / 100) * 100 + 99}`;
    histogram[bucket] = (histogram[bucket] ?? 0) + 1;
  }
  return {
    trials: sorted.length,
    samplesMs,
    worstMs: sorted[sorted.length - 1] ?? 0,
    meanMs: Math.round(sorted.reduce((sum, ms) => sum + ms, 0) / sorted.length),
    p50Ms: rank(0.5),
    p90Ms: rank(0.9),
    p99Ms: rank(0.99),
    histogram,
  };
}

/** Revokes through the CLI (`tollgate keys revoke`), as an operator would, with its environment. */
export function cliRevoker(env: NodeJS.ProcessEnv, cwd?: string): (keyId: string) => Promise<void> {
  const run = promisify(execFile);
  return async (keyId) => {
    await run('node', [BIN, 'keys', 'revoke', keyId], {
      env: { PATH: process.env.PATH, ...env },
      ...(cwd ? { cwd } : {}),
    });
  };
}

/** Makes each trial's key with the CLI (`tollgate keys create <account> --json`). */
export function cliKeyMaker(
  env: NodeJS.ProcessEnv,
  accountId: string,
  cwd?: string,
): () => Promise<{ key: string; keyId: string }> {
  const run = promisify(execFile);
  return async () => {
    const { stdout } = await run(
      'node',
      [BIN, 'keys', 'create', accountId, '--name', 'revocation latency', '--json'],
      { env: { PATH: process.env.PATH, ...env }, ...(cwd ? { cwd } : {}) },
    );
    const created = JSON.parse(stdout) as { id: string; key: string };
    return { key: created.key, keyId: created.id };
  };
}

/**
 * Revokes through instance A's dashboard API over HTTP, signed in as a member who may revoke the
 * account's keys (an owner or admin). `origin` must be A's public URL (server.public_url, or its
 * loopback address): sign-in from another origin is refused.
 */
export async function dashboardRevoker(options: {
  readonly baseUrl: string;
  readonly origin?: string;
  readonly email: string;
  readonly password: string;
  readonly accountId: string;
}): Promise<(keyId: string) => Promise<void>> {
  const origin = options.origin ?? new URL(options.baseUrl).origin;
  const api = (path: string) => new URL(`/dashboard/api/${path}`, options.baseUrl).toString();
  const cookies = new Map<string, string>();
  let csrfToken = '';
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const response = await fetch(api(path), {
      method,
      headers: {
        origin,
        ...(cookies.size > 0 ? { cookie: [...cookies].map(([n, v]) => `${n}=${v}`).join('; ') } : {}),
        ...(method === 'POST' && csrfToken ? { 'x-csrf-token': csrfToken } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    for (const set of response.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (pair && at > 0) cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    const text = await response.text();
    const json = parse(text) as { csrfToken?: unknown } | undefined;
    if (typeof json?.csrfToken === 'string') csrfToken = json.csrfToken;
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 200)}`);
  };
  await call('POST', 'auth/login', { email: options.email, password: options.password });
  await call('GET', 'session');
  return (keyId) => call('POST', `accounts/${options.accountId}/keys/${keyId}/revoke`);
}

function errorCode(body: string): string | undefined {
  return (parse(body) as { error?: { code?: string } } | undefined)?.error?.code;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
