import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { type Child, startChild, urlLine } from './child-process.js';
import { type LatencyResult, measureLatency } from './latency.js';
import { type LoadResult, runLoad } from './load.js';
import { type Report, writeReport } from './report.js';
import { measureStreams } from './sse.js';
import { startTollgate } from './tollgate-server.js';

/**
 * `npm run bench`: Tollgate against a direct call and a bare Fastify + undici pass-through, in one
 * run, arms interleaved in rounds so that drift in the machine's speed affects every arm alike.
 * A benchmark, not a test: it asserts nothing, it reports.
 *
 * Scenarios:
 * - max load: 32 connections, zero-latency upstream; throughput against the bare pass-through.
 * - slow upstream: 64 connections, upstream answering after 20 ms; throughput against direct.
 * - latency: one connection, zero-latency upstream; added p50/p99 in µs against direct.
 */
const WARMUP_SECONDS = 2;
const ROUND_SECONDS = 5;
const ROUNDS = 3;
const LATENCY_SECONDS = 3;
/** The SSE scenario: 64 deltas sent 20 ms apart, as in issue 5. */
const SSE_TOKENS = 64;
const SSE_SEQUENTIAL_STREAMS = 10;
const SSE_CONCURRENT_STREAMS = 256;

type ArmName = 'direct' | 'bare' | 'tollgate';

interface Arm {
  readonly name: ArmName;
  readonly url: string;
  readonly model: string;
  readonly key: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function throughput(arms: Arm[], connections: number, rounds: number) {
  for (const arm of arms) await runLoad({ ...arm, connections, seconds: WARMUP_SECONDS });
  const results = new Map<ArmName, LoadResult[]>(arms.map((a) => [a.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const arm of arms) {
      const result = await runLoad({ ...arm, connections, seconds: ROUND_SECONDS });
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(
          `${arm.name}: ${result.non2xx} non-2xx answers and ${result.errors} errors; the run is invalid`,
        );
      }
      results.get(arm.name)?.push(result);
      process.stderr.write(`c=${connections} round ${round} ${arm.name}: ${result.rps.toFixed(0)} req/s\n`);
    }
  }
  const summary = {} as Record<ArmName, { rps: number; p50Ms: number; p99Ms: number; requests: number }>;
  for (const arm of arms) {
    const list = results.get(arm.name) ?? [];
    summary[arm.name] = {
      rps: median(list.map((r) => r.rps)),
      p50Ms: median(list.map((r) => r.p50Ms)),
      p99Ms: median(list.map((r) => r.p99Ms)),
      requests: list.reduce((total, r) => total + r.requests, 0),
    };
  }
  return summary;
}

async function latency(arms: Arm[]) {
  const results = new Map<ArmName, LatencyResult[]>(arms.map((a) => [a.name, []]));
  for (let round = 1; round <= 2; round++) {
    for (const arm of arms)
      results.get(arm.name)?.push(await measureLatency({ ...arm, seconds: LATENCY_SECONDS }));
  }
  const summary = {} as Record<ArmName, { p50Us: number; p99Us: number; requests: number }>;
  for (const arm of arms) {
    const list = results.get(arm.name) ?? [];
    summary[arm.name] = {
      p50Us: median(list.map((r) => r.p50Us)),
      p99Us: median(list.map((r) => r.p99Us)),
      requests: list.reduce((total, r) => total + r.requests, 0),
    };
  }
  return summary;
}

/** Time to first token and gaps at one stream at a time, then 256 concurrent streams through Tollgate. */
async function streaming(upstreamUrl: string, tollgateUrl: string, key: string) {
  const base = { key, tokens: SSE_TOKENS, count: SSE_SEQUENTIAL_STREAMS, concurrent: false };
  const direct = await measureStreams({ ...base, url: upstreamUrl, model: 'fake-model' });
  const tollgate = await measureStreams({ ...base, url: tollgateUrl, model: 'bench-sse' });
  const concurrent = await measureStreams({
    ...base,
    url: tollgateUrl,
    model: 'bench-sse',
    count: SSE_CONCURRENT_STREAMS,
    concurrent: true,
  });
  process.stderr.write(
    `sse: ${concurrent.streams} concurrent streams, ${concurrent.lostOrReordered} frames lost or reordered\n`,
  );
  return { direct, tollgate, concurrent };
}

const dist = path.dirname(new URL(import.meta.url).pathname);
const children: Child[] = [];
const start = async (script: string, env: NodeJS.ProcessEnv) => {
  const child = await startChild([path.join(dist, script)], { PATH: process.env.PATH, ...env }, urlLine);
  children.push(child);
  return child;
};

try {
  const upstream = await start('upstream-server.js', {});
  const slowUpstream = await start('upstream-server.js', { BENCH_UPSTREAM_DELAY_MS: '20' });
  const bare = await start('bare-proxy.js', { BENCH_UPSTREAM: upstream.url });
  const slowBare = await start('bare-proxy.js', { BENCH_UPSTREAM: slowUpstream.url });
  const sseUpstream = await start('upstream-server.js', {
    BENCH_REPLY_TOKENS: String(SSE_TOKENS),
    BENCH_CHUNK_INTERVAL_MS: '20',
  });
  const tollgate = await startTollgate(upstream.url, slowUpstream.url, sseUpstream.url);
  children.push(tollgate.child);

  const fast: Arm[] = [
    { name: 'direct', url: upstream.url, model: 'fake-model', key: 'none' },
    { name: 'bare', url: bare.url, model: 'fake-model', key: 'none' },
    { name: 'tollgate', url: tollgate.child.url, model: 'bench-model', key: tollgate.key },
  ];
  const slow: Arm[] = [
    { name: 'direct', url: slowUpstream.url, model: 'fake-model', key: 'none' },
    { name: 'bare', url: slowBare.url, model: 'fake-model', key: 'none' },
    { name: 'tollgate', url: tollgate.child.url, model: 'bench-slow', key: tollgate.key },
  ];

  const maxLoad = await throughput(fast, 32, ROUNDS);
  const slowLoad = await throughput(slow, 64, 2);
  const oneConnection = await latency(fast);
  const sse = await streaming(sseUpstream.url, tollgate.child.url, tollgate.key);

  const report: Report = {
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
    },
    node: process.version,
    request: 'non-streaming chat completion, max_tokens 16',
    maxLoad: {
      connections: 32,
      arms: maxLoad,
      tollgateVsBare: maxLoad.tollgate.rps / maxLoad.bare.rps,
      tollgateVsDirect: maxLoad.tollgate.rps / maxLoad.direct.rps,
      bareVsDirect: maxLoad.bare.rps / maxLoad.direct.rps,
      target: 0.7,
    },
    slowUpstream: {
      connections: 64,
      upstreamDelayMs: 20,
      arms: slowLoad,
      tollgateVsDirect: slowLoad.tollgate.rps / slowLoad.direct.rps,
      target: 0.97,
    },
    sse: {
      tokens: SSE_TOKENS,
      intervalMs: 20,
      direct: sse.direct,
      tollgate: sse.tollgate,
      concurrent: sse.concurrent,
      addedFirstTokenP99Us: sse.tollgate.firstTokenP99Us - sse.direct.firstTokenP99Us,
    },
    latency: {
      connections: 1,
      arms: oneConnection,
      addedP50Us: {
        bare: oneConnection.bare.p50Us - oneConnection.direct.p50Us,
        tollgate: oneConnection.tollgate.p50Us - oneConnection.direct.p50Us,
      },
      addedP99Us: {
        bare: oneConnection.bare.p99Us - oneConnection.direct.p99Us,
        tollgate: oneConnection.tollgate.p99Us - oneConnection.direct.p99Us,
      },
    },
  };
  process.stdout.write(await writeReport(report));
} finally {
  await Promise.all(children.map((child) => child.stop()));
}
