import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { type Child, startChild, urlLine } from './child-process.js';
import { type LatencyResult, measureLatency } from './latency.js';
import { type LoadResult, runLoad } from './load.js';
import { probeMachine } from './machine-probe.js';
import { postgresArm } from './postgres-entry.js';
import { cpuMicros } from './proc-cpu.js';
import { type Report, writeReport } from './report.js';
import { settings } from './settings.js';
import { soak } from './soak.js';
import { measureStreams, percentile, type StreamSample, streamSamples, summarizeStreams } from './sse.js';
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
 * - SSE: time to first token and gaps between tokens at one stream, added against direct.
 * - soak: steady moderate load on Tollgate, its memory sampled every 5 s (BENCH_SOAK=0 skips it).
 * At maximum load, each gateway's CPU per request is read from /proc/<pid>/stat around each round.
 * Durations: settings.ts (BENCH_QUICK=1 for a short run).
 */
const { warmupSeconds: WARMUP_SECONDS, roundSeconds: ROUND_SECONDS } = settings;
const SSE_TOKENS = settings.sseTokens;

type ArmName = 'direct' | 'bare' | 'tollgate';

interface Arm {
  readonly name: ArmName;
  readonly url: string;
  readonly model: string;
  readonly key: string;
  /** The gateway's process, whose CPU time is read around each round; none for direct calls. */
  readonly pid?: number | undefined;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The arms in the order a round runs them: reversed every other round, so that no arm always runs
 * last, when the machine may have drifted furthest from where the round began.
 */
function roundOrder(arms: Arm[], round: number): Arm[] {
  return round % 2 === 1 ? arms : [...arms].reverse();
}

/** `a / b` within each round, the two measured moments apart: the machine's drift cancels out. */
function pairedRatios(a: readonly { rps: number }[], b: readonly { rps: number }[]): number[] {
  return a.map((result, round) => result.rps / (b[round]?.rps ?? Number.NaN));
}

async function throughput(arms: Arm[], connections: number, rounds: number) {
  for (const arm of arms) await runLoad({ ...arm, connections, seconds: WARMUP_SECONDS });
  const results = new Map<ArmName, LoadResult[]>(arms.map((a) => [a.name, []]));
  const cpu = new Map<ArmName, { process: number[]; mainThread: number[] }>(
    arms.map((a) => [a.name, { process: [], mainThread: [] }]),
  );
  for (let round = 1; round <= rounds; round++) {
    for (const arm of roundOrder(arms, round)) {
      const before = { process: cpuMicros(arm.pid), mainThread: cpuMicros(arm.pid, true) };
      const result = await runLoad({ ...arm, connections, seconds: ROUND_SECONDS });
      const after = { process: cpuMicros(arm.pid), mainThread: cpuMicros(arm.pid, true) };
      const perRequest = (from: number | undefined, to: number | undefined) =>
        from === undefined || to === undefined ? undefined : (to - from) / result.requests;
      const armCpu = cpu.get(arm.name)!;
      const processUs = perRequest(before.process, after.process);
      const mainThreadUs = perRequest(before.mainThread, after.mainThread);
      if (processUs !== undefined) armCpu.process.push(processUs);
      if (mainThreadUs !== undefined) armCpu.mainThread.push(mainThreadUs);
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(
          `${arm.name}: ${result.non2xx} non-2xx answers and ${result.errors} errors; the run is invalid`,
        );
      }
      results.get(arm.name)?.push(result);
      const cpuNote = processUs === undefined ? '' : `, ${processUs.toFixed(0)} µs CPU/request`;
      process.stderr.write(
        `c=${connections} round ${round} ${arm.name}: ${result.rps.toFixed(0)} req/s${cpuNote}\n`,
      );
    }
  }
  const summary = {} as Report['maxLoad']['arms'];
  const tollgate = results.get('tollgate') ?? [];
  const tollgateVsBareByRound = pairedRatios(tollgate, results.get('bare') ?? []);
  const tollgateVsDirectByRound = pairedRatios(tollgate, results.get('direct') ?? []);
  for (const arm of arms) {
    const list = results.get(arm.name) ?? [];
    const armCpu = cpu.get(arm.name)!;
    summary[arm.name] = {
      rps: median(list.map((r) => r.rps)),
      p50Ms: median(list.map((r) => r.p50Ms)),
      p99Ms: median(list.map((r) => r.p99Ms)),
      requests: list.reduce((total, r) => total + r.requests, 0),
      ...(armCpu.process.length > 0
        ? { cpuUsPerRequest: median(armCpu.process), mainThreadCpuUsPerRequest: median(armCpu.mainThread) }
        : {}),
    };
  }
  return { summary, tollgateVsBareByRound, tollgateVsDirectByRound };
}

async function latency(arms: Arm[]) {
  const results = new Map<ArmName, LatencyResult[]>(arms.map((a) => [a.name, []]));
  for (let round = 1; round <= settings.latencyRounds; round++) {
    for (const arm of roundOrder(arms, round))
      results.get(arm.name)?.push(await measureLatency({ ...arm, seconds: settings.latencySeconds }));
  }
  // What each gateway adds over the direct call measured in the same round.
  const direct = results.get('direct') ?? [];
  const addedByRound = (arm: ArmName, key: 'p50Us' | 'p99Us') =>
    (results.get(arm) ?? []).map((r, round) => r[key] - (direct[round]?.[key] ?? Number.NaN));
  const added = {
    p50Us: {
      bare: median(addedByRound('bare', 'p50Us')),
      tollgate: median(addedByRound('tollgate', 'p50Us')),
    },
    p99Us: {
      bare: median(addedByRound('bare', 'p99Us')),
      tollgate: median(addedByRound('tollgate', 'p99Us')),
    },
  };
  const summary = {} as Record<ArmName, { p50Us: number; p99Us: number; requests: number }>;
  for (const arm of arms) {
    const list = results.get(arm.name) ?? [];
    summary[arm.name] = {
      p50Us: median(list.map((r) => r.p50Us)),
      p99Us: median(list.map((r) => r.p99Us)),
      requests: list.reduce((total, r) => total + r.requests, 0),
    };
  }
  return { summary, added };
}

/**
 * Time to first token and gaps at one stream at a time, direct, through the bare pass-through and
 * through Tollgate taking turns (so all three see the same machine), then 256 concurrent streams
 * through Tollgate.
 */
async function streaming(urls: { upstream: string; bare: string; tollgate: string }, key: string) {
  const base = { key, tokens: SSE_TOKENS, count: 1, concurrent: false };
  const samples = {
    direct: [] as StreamSample[],
    bare: [] as StreamSample[],
    tollgate: [] as StreamSample[],
  };
  for (let i = 0; i < settings.sseSequentialStreams; i++) {
    samples.direct.push(...(await streamSamples({ ...base, url: urls.upstream, model: 'fake-model' })));
    samples.bare.push(...(await streamSamples({ ...base, url: urls.bare, model: 'fake-model' })));
    samples.tollgate.push(...(await streamSamples({ ...base, url: urls.tollgate, model: 'bench-sse' })));
  }
  const direct = summarizeStreams(samples.direct);
  const bare = summarizeStreams(samples.bare);
  const tollgate = summarizeStreams(samples.tollgate);
  const concurrent = await measureStreams({
    ...base,
    url: urls.tollgate,
    model: 'bench-sse',
    count: settings.sseConcurrentStreams,
    concurrent: true,
  });
  process.stderr.write(
    `sse: ${concurrent.streams} concurrent streams, ${concurrent.lostOrReordered} frames lost or reordered\n`,
  );
  // Each stream against the direct one taken just before it: the pair saw the same machine.
  const addedFirstToken = (arm: StreamSample[]) =>
    arm.map((sample, i) => sample.firstTokenUs - (samples.direct[i]?.firstTokenUs ?? Number.NaN));
  const added = { bare: addedFirstToken(samples.bare), tollgate: addedFirstToken(samples.tollgate) };
  return { direct, bare, tollgate, concurrent, added };
}

const dist = path.dirname(new URL(import.meta.url).pathname);
const children: Child[] = [];
const start = async (script: string, env: NodeJS.ProcessEnv) => {
  const child = await startChild([path.join(dist, script)], { PATH: process.env.PATH, ...env }, urlLine);
  children.push(child);
  return child;
};

const memoryDir = mkdtempSync(path.join(tmpdir(), 'tollgate-bench-memory-'));
try {
  const upstream = await start('upstream-server.js', {});
  const slowUpstream = await start('upstream-server.js', { BENCH_UPSTREAM_DELAY_MS: '20' });
  const bare = await start('bare-proxy.js', { BENCH_UPSTREAM: upstream.url });
  const slowBare = await start('bare-proxy.js', { BENCH_UPSTREAM: slowUpstream.url });
  const sseUpstream = await start('upstream-server.js', {
    BENCH_REPLY_TOKENS: String(SSE_TOKENS),
    BENCH_CHUNK_INTERVAL_MS: '20',
  });
  const sseBare = await start('bare-proxy.js', { BENCH_UPSTREAM: sseUpstream.url });
  const memoryFile = path.join(memoryDir, 'samples.jsonl');
  const tollgate = await startTollgate(upstream.url, slowUpstream.url, sseUpstream.url, {
    nodeArgs: ['--expose-gc', '--import', path.join(dist, 'memory-reporter.js')],
    env: { BENCH_MEMORY_FILE: memoryFile },
  });
  children.push(tollgate.child);

  const fast: Arm[] = [
    { name: 'direct', url: upstream.url, model: 'fake-model', key: 'none' },
    { name: 'bare', url: bare.url, model: 'fake-model', key: 'none', pid: bare.process.pid },
    {
      name: 'tollgate',
      url: tollgate.child.url,
      model: 'bench-model',
      key: tollgate.key,
      pid: tollgate.child.process.pid,
    },
  ];
  const slow: Arm[] = [
    { name: 'direct', url: slowUpstream.url, model: 'fake-model', key: 'none' },
    { name: 'bare', url: slowBare.url, model: 'fake-model', key: 'none' },
    { name: 'tollgate', url: tollgate.child.url, model: 'bench-slow', key: tollgate.key },
  ];

  const probe = await probeMachine();
  process.stderr.write(
    `machine: a system call ${probe.syscallUs.toFixed(1)} µs, a thread round trip ${probe.threadRoundTripUs.toFixed(0)} µs\n`,
  );
  const { summary: maxLoad, tollgateVsBareByRound } = await throughput(fast, 32, settings.maxLoadRounds);
  const { summary: slowLoad, tollgateVsDirectByRound: slowVsDirectByRound } = await throughput(
    slow,
    64,
    settings.slowRounds,
  );
  const { summary: oneConnection, added } = await latency(fast);
  const sse = await streaming(
    { upstream: sseUpstream.url, bare: sseBare.url, tollgate: tollgate.child.url },
    tollgate.key,
  );
  const soaked = settings.soak
    ? await soak({
        url: tollgate.child.url,
        key: tollgate.key,
        model: 'bench-model',
        connections: settings.soakConnections,
        seconds: settings.soakSeconds,
        memoryFile,
      })
    : undefined;
  if (soaked) {
    process.stderr.write(
      `soak: ${soaked.rps.toFixed(0)} req/s, memory ${soaked.levelsOff ? 'levels off' : 'still grows'}\n`,
    );
  }

  const postgres = await postgresArm({ direct: upstream.url, bare: bare.url, bareId: bare.process.pid });

  const report: Report = {
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      ...probe,
    },
    node: process.version,
    quick: settings.quick,
    request: 'non-streaming chat completion, max_tokens 16',
    maxLoad: {
      connections: 32,
      arms: maxLoad,
      tollgateVsBare: median(tollgateVsBareByRound),
      tollgateVsBareByRound,
      tollgateVsBareOfMedians: maxLoad.tollgate.rps / maxLoad.bare.rps,
      tollgateVsDirect: maxLoad.tollgate.rps / maxLoad.direct.rps,
      bareVsDirect: maxLoad.bare.rps / maxLoad.direct.rps,
      targets: { issue2: 0.7, issue5: 0.8 },
    },
    slowUpstream: {
      connections: 64,
      upstreamDelayMs: 20,
      arms: slowLoad,
      tollgateVsDirect: median(slowVsDirectByRound),
      tollgateVsDirectByRound: slowVsDirectByRound,
      bareVsDirect: slowLoad.bare.rps / slowLoad.direct.rps,
      target: 0.97,
    },
    sse: {
      tokens: SSE_TOKENS,
      intervalMs: 20,
      direct: sse.direct,
      bare: sse.bare,
      tollgate: sse.tollgate,
      concurrent: sse.concurrent,
      addedFirstTokenP50Us: percentile(sse.added.tollgate, 50),
      addedFirstTokenP99Us: percentile(sse.added.tollgate, 99),
      addedGapP99Us: sse.tollgate.gapP99Us - sse.direct.gapP99Us,
      bareAddedFirstTokenP50Us: percentile(sse.added.bare, 50),
      bareAddedFirstTokenP99Us: percentile(sse.added.bare, 99),
    },
    latency: {
      connections: 1,
      arms: oneConnection,
      addedP50Us: added.p50Us,
      addedP99Us: added.p99Us,
    },
    soak: soaked,
    postgres,
  };
  process.stdout.write(await writeReport(report));
} finally {
  await Promise.all(children.map((child) => child.stop()));
  rmSync(memoryDir, { recursive: true, force: true });
}
