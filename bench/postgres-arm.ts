import pg from 'pg';
import { startPostgres, startRedis } from '../test/support/real-servers.js';
import type { Child } from './child-process.js';
import { measureLatency } from './latency.js';
import { type LoadResult, runLoad } from './load.js';
import { postgresCpuMicros } from './postgres-cpu.js';
import { cpuMicros } from './proc-cpu.js';
import { settings } from './settings.js';
import { type PreparedTollgate, prepareTollgate, serveTollgate } from './tollgate-server.js';

/**
 * The PostgreSQL arm of `npm run bench`: Tollgate on PostgreSQL (fsync and synchronous commit on,
 * as in production), as one instance and as two instances behind one Redis, against the same bare
 * pass-through and direct calls as the SQLite arm. Each instance is its own process; the two share
 * the load generator's connections half and half. What the shared store costs per request is read
 * from the database server itself: its CPU time (/proc) and its committed transactions
 * (pg_stat_database), around each round.
 */
export type PostgresArmName = 'bare' | 'postgres-1' | 'postgres-2';

export interface PostgresArmThroughput {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Tollgate's processes (both, for two instances): utime + stime per request. */
  gatewayCpuUsPerRequest?: number;
  /** The PostgreSQL server's processes, per request. */
  databaseCpuUsPerRequest?: number;
  /** Transactions committed per request. */
  commitsPerRequest?: number;
}

export interface PostgresReport {
  connections: number;
  arms: Record<PostgresArmName, PostgresArmThroughput>;
  /** Medians of the per-round ratios against the bare pass-through. */
  vsBare: { 'postgres-1': number; 'postgres-2': number };
  /** One connection: median over rounds of each arm's percentile minus direct's in the same round. */
  latency: { addedP50Us: Record<PostgresArmName, number>; addedP99Us: Record<PostgresArmName, number> };
}

interface Arm {
  readonly name: PostgresArmName;
  readonly urls: readonly string[];
  readonly model: string;
  readonly key: string;
  readonly pids: readonly (number | undefined)[];
  /** The database's port, for its CPU and commits; none for the bare pass-through. */
  readonly database?: { port: number; url: string };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0
    ? Number.NaN
    : sorted.length % 2
      ? (sorted[mid] ?? Number.NaN)
      : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The load of one round, split evenly over the arm's instances, run at the same time. */
async function load(arm: Arm, connections: number, seconds: number): Promise<LoadResult> {
  const parts = await Promise.all(
    arm.urls.map((url) =>
      runLoad({ url, key: arm.key, model: arm.model, connections: connections / arm.urls.length, seconds }),
    ),
  );
  const requests = parts.reduce((sum, p) => sum + p.requests, 0);
  // Percentiles of the whole load, approximated by the parts' weighted by their requests.
  const weighted = (field: 'p50Ms' | 'p99Ms') =>
    parts.reduce((sum, p) => sum + p[field] * p.requests, 0) / Math.max(1, requests);
  return {
    rps: parts.reduce((sum, p) => sum + p.rps, 0),
    p50Ms: weighted('p50Ms'),
    p99Ms: weighted('p99Ms'),
    requests,
    non2xx: parts.reduce((sum, p) => sum + p.non2xx, 0),
    errors: parts.reduce((sum, p) => sum + p.errors, 0),
  };
}

async function commits(database: { url: string }): Promise<number> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}

interface Sample {
  gateway?: number | undefined;
  database?: number | undefined;
  commits?: number | undefined;
}

async function sample(arm: Arm): Promise<Sample> {
  const gateway = arm.pids.map((pid) => cpuMicros(pid));
  return {
    gateway: gateway.some((v) => v === undefined)
      ? undefined
      : gateway.reduce((a, b) => (a ?? 0) + (b ?? 0), 0),
    ...(arm.database
      ? { database: postgresCpuMicros(arm.database.port), commits: await commits(arm.database) }
      : {}),
  };
}

const perRequest = (before: number | undefined, after: number | undefined, requests: number) =>
  before === undefined || after === undefined ? undefined : (after - before) / requests;

async function throughput(arms: Arm[], connections: number) {
  for (const arm of arms) await load(arm, connections, settings.warmupSeconds);
  const rounds = new Map<PostgresArmName, (LoadResult & Sample)[]>(arms.map((a) => [a.name, []]));
  for (let round = 1; round <= settings.postgresRounds; round++) {
    for (const arm of round % 2 ? arms : [...arms].reverse()) {
      const before = await sample(arm);
      const result = await load(arm, connections, settings.roundSeconds);
      // Backends publish their statistics at most once a second.
      if (arm.database) await sleep(1_100);
      const after = await sample(arm);
      if (result.non2xx > 0 || result.errors > 0)
        throw new Error(
          `${arm.name}: ${result.non2xx} non-2xx and ${result.errors} errors; the run is invalid`,
        );
      const cost = {
        gateway: perRequest(before.gateway, after.gateway, result.requests),
        database: perRequest(before.database, after.database, result.requests),
        // The statistics query itself commits once.
        commits: perRequest(before.commits, (after.commits ?? 0) - 1, result.requests),
      };
      rounds.get(arm.name)?.push({ ...result, ...cost });
      process.stderr.write(
        `postgres c=${connections} round ${round} ${arm.name}: ${result.rps.toFixed(0)} req/s` +
          `${cost.database === undefined ? '' : `, database ${cost.database.toFixed(0)} µs CPU/request`}\n`,
      );
    }
  }
  const arms_ = {} as PostgresReport['arms'];
  for (const arm of arms) {
    const list = rounds.get(arm.name) ?? [];
    const figure = (field: keyof Sample) => {
      const values = list.map((r) => r[field]).filter((v): v is number => v !== undefined);
      return values.length > 0 ? median(values) : undefined;
    };
    const gateway = figure('gateway');
    const database = figure('database');
    const commitsPerRequest = figure('commits');
    arms_[arm.name] = {
      rps: median(list.map((r) => r.rps)),
      p50Ms: median(list.map((r) => r.p50Ms)),
      p99Ms: median(list.map((r) => r.p99Ms)),
      requests: list.reduce((sum, r) => sum + r.requests, 0),
      ...(gateway === undefined ? {} : { gatewayCpuUsPerRequest: gateway }),
      ...(database === undefined ? {} : { databaseCpuUsPerRequest: database }),
      ...(commitsPerRequest === undefined ? {} : { commitsPerRequest }),
    };
  }
  const bare = rounds.get('bare') ?? [];
  const ratio = (name: PostgresArmName) =>
    median((rounds.get(name) ?? []).map((r, i) => r.rps / (bare[i]?.rps ?? Number.NaN)));
  return { arms: arms_, vsBare: { 'postgres-1': ratio('postgres-1'), 'postgres-2': ratio('postgres-2') } };
}

async function latency(direct: { url: string }, arms: Arm[]) {
  const added = new Map<PostgresArmName, { p50: number[]; p99: number[] }>(
    arms.map((a) => [a.name, { p50: [], p99: [] }]),
  );
  for (let round = 1; round <= settings.latencyRounds; round++) {
    const base = await measureLatency({
      url: direct.url,
      key: 'none',
      model: 'fake-model',
      seconds: settings.latencySeconds,
    });
    for (const arm of arms) {
      // One connection goes to one instance; with two, each round takes the other in turn.
      const url = arm.urls[round % arm.urls.length] ?? '';
      const result = await measureLatency({
        url,
        key: arm.key,
        model: arm.model,
        seconds: settings.latencySeconds,
      });
      added.get(arm.name)?.p50.push(result.p50Us - base.p50Us);
      added.get(arm.name)?.p99.push(result.p99Us - base.p99Us);
    }
  }
  const pick = (field: 'p50' | 'p99') =>
    Object.fromEntries(arms.map((a) => [a.name, median(added.get(a.name)?.[field] ?? [])])) as Record<
      PostgresArmName,
      number
    >;
  return { addedP50Us: pick('p50'), addedP99Us: pick('p99') };
}

/**
 * Runs the arm against the given upstream (zero latency) and bare pass-through; starts and stops
 * its own PostgreSQL, Redis and Tollgate processes.
 */
export async function runPostgresArm(urls: {
  direct: string;
  bare: string;
  bareId?: number | undefined;
}): Promise<PostgresReport> {
  const postgres = await startPostgres({ durable: true });
  const redis = await startRedis();
  const children: Child[] = [];
  const prepared: PreparedTollgate[] = [];
  try {
    const upstreams = { upstreamUrl: urls.direct, slowUpstreamUrl: urls.direct, sseUpstreamUrl: urls.direct };
    const oneUrl = await postgres.createDatabase('bench_one');
    const one = prepareTollgate({ ...upstreams, databaseUrl: oneUrl });
    prepared.push(one);
    const twoUrl = await postgres.createDatabase('bench_two');
    const two = prepareTollgate({
      ...upstreams,
      databaseUrl: twoUrl,
      extraYaml: 'cluster:\n  instances: 2',
      env: { TOLLGATE_REDIS_URL: redis.url },
    });
    prepared.push(two);
    const serve = async (of: PreparedTollgate) => {
      const child = await serveTollgate(of, { keepFolder: true });
      children.push(child);
      return child;
    };
    const single = await serve(one);
    const pair = [await serve(two), await serve(two)];
    const database = (url: string) => ({ port: postgres.port, url });
    const arms: Arm[] = [
      { name: 'bare', urls: [urls.bare], model: 'fake-model', key: 'none', pids: [urls.bareId] },
      {
        name: 'postgres-1',
        urls: [single.url],
        model: 'bench-model',
        key: one.key,
        pids: [single.process.pid],
        database: database(oneUrl),
      },
      {
        name: 'postgres-2',
        urls: pair.map((c) => c.url),
        model: 'bench-model',
        key: two.key,
        pids: pair.map((c) => c.process.pid),
        database: database(twoUrl),
      },
    ];
    const connections = 32;
    const measured = await throughput(arms, connections);
    const added = await latency({ url: urls.direct }, arms);
    return { connections, ...measured, latency: added };
  } finally {
    await Promise.allSettled(children.map((c) => c.stop()));
    for (const p of prepared) p.remove();
    await Promise.allSettled([postgres.stop(), redis.stop()]);
  }
}
