import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { type Config, loadConfig } from '../../src/config/load-config.js';
import type { KeyType } from '../../src/domain/api-key.js';
import type { KeySpending } from '../../src/domain/key-spending.js';
import { reconcilePostgres } from './cluster-reconcile.js';
import { type FakeUpstream, type FakeUpstreamOptions, startFakeUpstream } from './fake-openai-upstream.js';
import { configYaml, TEST_KEY_SECRET } from './harness.js';
import { chargesByPool, type LedgerFigures, ledgerFigures, type PoolCharges } from './ledger-figures.js';
import {
  freePort,
  type PostgresServer,
  postgresMissing,
  type RedisServer,
  redisMissing,
  startPostgres,
  startRedis,
} from './real-servers.js';
import {
  type ServicesBesideServer,
  seedAccount,
  seedKey,
  withServicesBesideServer,
} from './services-beside-server.js';
import {
  type CliResult,
  hasExited,
  runCli,
  runCliJson,
  type ServeProcess,
  spawnServe,
  stopProcess,
} from './tollgate-process.js';

/**
 * Several `tollgate serve` processes on one PostgreSQL database and one Redis, as an operator runs
 * them behind a load balancer: each on a loopback port of its own (kept across restarts), all
 * forwarding to one fake upstream, all reading the same YAML with `cluster.instances: N`. Requests
 * are spread round-robin over the instances that are up, like a balancer with health checks.
 */
/** Why the cluster suites skip: PostgreSQL or Redis missing from the machine (with what to install). */
export function clusterMissing(): string | undefined {
  return postgresMissing() ?? redisMissing();
}

export interface ClusterOptions {
  readonly instances: number;
  readonly upstream?: FakeUpstreamOptions;
  /** Top-level YAML appended to the configuration: plans, billing. */
  readonly extraYaml?: string;
  /** Lines inside the provider block (indented four spaces), such as timeouts. */
  readonly providerYaml?: string;
  /** Lines inside the `cluster:` block besides `instances` (indented two spaces). */
  readonly clusterYaml?: string;
  /** Start PostgreSQL with fsync on, as in production (the benchmark). */
  readonly durable?: boolean;
}

export interface ClusterInstance {
  readonly index: number;
  readonly port: number;
  readonly baseUrl: string;
  /** The running process, or undefined while it is killed. */
  readonly process: ServeProcess | undefined;
  /** Its log, across restarts (the last 64 kB of each run). */
  log(): string;
}

export interface SeedOptions {
  readonly usd?: string;
  readonly type?: KeyType;
  readonly spending?: KeySpending;
  readonly plans?: readonly string[];
}

export interface Cluster {
  readonly postgres: PostgresServer;
  readonly redis: RedisServer;
  readonly upstream: FakeUpstream;
  readonly databaseUrl: string;
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly config: Config;
  readonly instances: readonly ClusterInstance[];
  /** The next instance that is up, round-robin. */
  nextBaseUrl(): string;
  /** How many requests nextBaseUrl() has sent to each instance so far. */
  readonly dispatched: readonly number[];
  /** A fetch that sends each request to the next instance that is up (whatever origin it names). */
  readonly fetch: typeof fetch;
  /** An SDK client whose requests are spread over the instances. */
  client(key: string, base?: string): OpenAI;
  /** SIGKILL: no shutdown, holds left in the database for the others to reclaim. */
  kill(index: number): Promise<void>;
  /** Starts a killed (or stopped) instance again on its port. */
  restart(index: number): Promise<void>;
  cli(args: string[], extraEnv?: NodeJS.ProcessEnv, stdin?: string): Promise<CliResult>;
  cliJson<T>(args: string[]): Promise<T>;
  services<T>(work: (services: ServicesBesideServer) => Promise<T>): Promise<T>;
  /** An account with `usd` of prepaid credit, subscribed to `plans`, and one key. */
  seed(options?: SeedOptions): Promise<{ accountId: string; keyId: string; key: string }>;
  ledgerOf(accountId: string): Promise<LedgerFigures>;
  chargedByPool(accountId: string): Promise<PoolCharges>;
  /** What does not reconcile in the whole database (empty when all does); see cluster-reconcile.ts. */
  reconcile(): Promise<string[]>;
  stop(): Promise<void>;
}

interface InstanceState {
  index: number;
  port: number;
  process: ServeProcess | undefined;
  logs: string[];
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-cluster-'));
  const [postgres, redis, upstream] = await Promise.all([
    startPostgres({ durable: options.durable ?? false }),
    startRedis(),
    startFakeUpstream(options.upstream),
  ]);
  const stopServers = async () => {
    await Promise.allSettled([postgres.stop(), redis.stop(), upstream.close()]);
    rmSync(dir, { recursive: true, force: true });
  };
  let databaseUrl: string;
  let config: Config;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    TOLLGATE_KEY_SECRET: TEST_KEY_SECRET,
    TOLLGATE_ENV_FILE: path.join(dir, 'none.env'),
    TOLLGATE_REDIS_URL: redis.url,
    HOST: '127.0.0.1',
  };
  try {
    databaseUrl = await postgres.createDatabase();
    env.TOLLGATE_DATABASE_URL = databaseUrl;
    const clusterYaml = `cluster:\n  instances: ${options.instances}\n${options.clusterYaml ?? ''}\n`;
    writeFileSync(
      path.join(dir, 'tollgate.yaml'),
      configYaml(
        upstream.url,
        options.providerYaml,
        'openai-compatible',
        `${options.extraYaml ?? ''}\n${clusterYaml}`,
      ),
    );
    config = loadConfig(path.join(dir, 'tollgate.yaml'), env);
  } catch (error) {
    await stopServers();
    throw error;
  }

  const states: InstanceState[] = [];
  for (let index = 0; index < options.instances; index++)
    states.push({ index, port: await freePort(), process: undefined, logs: [] });
  const start = async (state: InstanceState) => {
    state.process = await spawnServe({ ...env, PORT: String(state.port) }, dir);
    state.logs.push('');
    const run = state.process;
    const slot = state.logs.length - 1;
    run.child.on('exit', () => {
      state.logs[slot] = run.log();
    });
  };
  const startAll = async () => {
    // The first instance applies the migrations; the others then start together.
    const [first, ...rest] = states;
    if (first) await start(first);
    await Promise.all(rest.map(start));
  };
  try {
    await startAll();
  } catch (error) {
    await Promise.allSettled(states.map((s) => (s.process ? stopProcess(s.process.child) : undefined)));
    await stopServers();
    throw error;
  }

  let turn = 0;
  const dispatched = states.map(() => 0);
  const nextBaseUrl = () => {
    for (let tried = 0; tried < states.length; tried++) {
      const state = states[turn++ % states.length];
      if (state?.process && !hasExited(state.process.child)) {
        dispatched[state.index] = (dispatched[state.index] ?? 0) + 1;
        return `http://127.0.0.1:${state.port}`;
      }
    }
    throw new Error('no instance of the cluster is up');
  };
  const spreadFetch: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const target = new URL(`${url.pathname}${url.search}`, nextBaseUrl());
    return input instanceof Request ? fetch(new Request(target, input), init) : fetch(target, init);
  };
  const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}, stdin?: string) =>
    runCli(args, { ...env, ...extraEnv }, dir, stdin);
  const services = <T>(work: (s: ServicesBesideServer) => Promise<T>) =>
    withServicesBesideServer(config, work);

  return {
    postgres,
    redis,
    upstream,
    databaseUrl,
    dir,
    env,
    config,
    instances: states.map((state) => ({
      index: state.index,
      port: state.port,
      baseUrl: `http://127.0.0.1:${state.port}`,
      get process() {
        return state.process && !hasExited(state.process.child) ? state.process : undefined;
      },
      log: () => [...state.logs.slice(0, -1), state.process?.log() ?? ''].join('\n--- restarted ---\n'),
    })),
    nextBaseUrl,
    dispatched,
    fetch: spreadFetch,
    client: (key, base = '/v1') =>
      // The origin here is only a placeholder: spreadFetch picks the instance of each request.
      new OpenAI({ apiKey: key, baseURL: `http://cluster${base}`, maxRetries: 0, fetch: spreadFetch }),
    async kill(index) {
      const state = states[index];
      if (!state?.process) return;
      await stopProcess(state.process.child, 'SIGKILL');
    },
    async restart(index) {
      const state = states[index];
      if (!state) throw new Error(`no instance ${index}`);
      if (state.process && !hasExited(state.process.child)) return;
      await start(state);
    },
    cli,
    cliJson: <T>(args: string[]) => runCliJson<T>(args, env, dir),
    services,
    async seed(seedOptions = {}) {
      const accountId = await seedAccount(config, {
        usd: seedOptions.usd ?? '10',
        ...(seedOptions.plans ? { plans: seedOptions.plans } : {}),
      });
      const key = await seedKey(config, accountId, {
        ...(seedOptions.type ? { type: seedOptions.type } : {}),
        ...(seedOptions.spending ? { spending: seedOptions.spending } : {}),
      });
      return { accountId, keyId: key.id, key: key.key };
    },
    ledgerOf: (accountId) =>
      services(async ({ accounts, ledger }) => {
        const account = await accounts.find(accountId);
        return ledgerFigures(ledger, account?.availableMicros ?? Number.NaN, accountId);
      }),
    chargedByPool: (accountId) => services(({ ledger }) => chargesByPool(ledger, accountId)),
    reconcile: () => reconcilePostgres(databaseUrl),
    async stop() {
      await Promise.allSettled(states.map((s) => (s.process ? stopProcess(s.process.child) : undefined)));
      await stopServers();
    },
  };
}
