import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Child, startChild } from './child-process.js';

const BIN = path.resolve('bin/tollgate.js');

/**
 * Tollgate as an operator runs it: `tollgate serve` with its default configuration (authentication,
 * billing and usage records on), on a fresh SQLite database in a temporary folder, seeded through
 * the CLI with an account, ample credit and a key. Three providers: the zero-latency upstream
 * (`bench-model`), the one that answers after 20 ms (`bench-slow`), and the one that streams
 * deltas 20 ms apart (`bench-sse`).
 */
export async function startTollgate(
  upstreamUrl: string,
  slowUpstreamUrl: string,
  sseUpstreamUrl: string,
  /** Node flags for the server process, and variables added to its environment (bench aids only). */
  extra: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<{ child: Child; key: string }> {
  const prepared = prepareTollgate({ upstreamUrl, slowUpstreamUrl, sseUpstreamUrl });
  const child = await serveTollgate(prepared, extra);
  return { child, key: prepared.key };
}

export interface PreparedTollgate {
  readonly config: string;
  readonly env: NodeJS.ProcessEnv;
  /** The seeded key, with ample credit. */
  readonly key: string;
  /** Removes the folder (and a SQLite database in it). */
  remove(): void;
}

/**
 * Writes the configuration and seeds the database (SQLite in the folder unless `databaseUrl` names
 * another), with `extraYaml` appended (a `cluster:` block) and `env` added (TOLLGATE_REDIS_URL).
 */
export function prepareTollgate(options: {
  upstreamUrl: string;
  slowUpstreamUrl: string;
  sseUpstreamUrl: string;
  databaseUrl?: string;
  extraYaml?: string;
  env?: NodeJS.ProcessEnv;
}): PreparedTollgate {
  const { upstreamUrl, slowUpstreamUrl, sseUpstreamUrl } = options;
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-bench-'));
  const config = path.join(dir, 'tollgate.yaml');
  writeFileSync(
    config,
    `brand: bench
providers:
  - id: up
    type: openai-compatible
    base_url: ${upstreamUrl}/v1
  - id: slow
    type: openai-compatible
    base_url: ${slowUpstreamUrl}/v1
  - id: sse
    type: openai-compatible
    base_url: ${sseUpstreamUrl}/v1
models:
  - id: bench-model
    provider: up
    upstream_model: fake-model
    input_usd_per_million: 0.5
    output_usd_per_million: 1.5
    max_output_tokens: 4096
  - id: bench-sse
    provider: sse
    upstream_model: fake-model
    input_usd_per_million: 0.5
    output_usd_per_million: 1.5
    max_output_tokens: 4096
  - id: bench-slow
    provider: slow
    upstream_model: fake-model
    input_usd_per_million: 0.5
    output_usd_per_million: 1.5
    max_output_tokens: 4096
${options.extraYaml ?? ''}
`,
  );
  const env = {
    PATH: process.env.PATH,
    // A throwaway secret for a throwaway database: it protects nothing.
    TOLLGATE_KEY_SECRET: 'bench-only-secret-0123456789abcdef0123456789',
    TOLLGATE_DATABASE_URL: options.databaseUrl ?? `sqlite:${path.join(dir, 'tollgate.db')}`,
    TOLLGATE_ENV_FILE: path.join(dir, 'none.env'),
    HOST: '127.0.0.1',
    PORT: '0',
    ...options.env,
  };
  const cli = (...args: string[]) =>
    JSON.parse(
      execFileSync(process.execPath, [BIN, '--config', config, ...args, '--json'], { env }).toString(),
    ) as {
      id: string;
      key: string;
    };
  const account = cli('accounts', 'create', '--email', 'bench@example.com');
  cli('credits', 'add', account.id, '--usd', '1000000');
  const { key } = cli('keys', 'create', account.id, '--name', 'bench');
  return { config, env, key, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One `tollgate serve` process of a prepared configuration; its stop() also removes the folder. */
export async function serveTollgate(
  prepared: PreparedTollgate,
  extra: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv; keepFolder?: boolean } = {},
): Promise<Child> {
  const child = await startChild(
    [...(extra.nodeArgs ?? []), BIN, '--config', prepared.config, 'serve'],
    { ...prepared.env, ...extra.env },
    (output) => /"address":"(http:\/\/[^"]+)"/.exec(output)?.[1],
  );
  // The database takes most of a gigabyte over a full run: it goes when the server stops.
  const stop = async () => {
    await child.stop();
    if (!extra.keepFolder) prepared.remove();
  };
  return { process: child.process, url: child.url, stop };
}
