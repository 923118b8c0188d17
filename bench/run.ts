import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { startChild, urlLine } from './child-process.js';
import { type LoadResult, runLoad } from './load.js';
import { writeReport } from './report.js';
import { startTollgate } from './tollgate-server.js';

/**
 * `npm run bench`: throughput and latency of Tollgate against a direct call and against a bare
 * Fastify + undici pass-through, in one run, arms interleaved in rounds so that drift in the
 * machine's speed affects every arm alike. A benchmark, not a test: it asserts nothing, it reports.
 */
const CONNECTIONS = 32;
const WARMUP_SECONDS = 2;
const ROUND_SECONDS = 5;
const ROUNDS = 3;
/** Issue target: Tollgate reaches at least this share of the bare pass-through's throughput. */
const TARGET_VS_BARE = 0.7;

interface Arm {
  readonly name: 'direct' | 'bare' | 'tollgate';
  readonly url: string;
  readonly model: string;
  readonly key: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const dist = path.dirname(new URL(import.meta.url).pathname);
const upstream = await startChild(
  [path.join(dist, 'upstream-server.js')],
  { PATH: process.env.PATH },
  urlLine,
);
const bare = await startChild(
  [path.join(dist, 'bare-proxy.js')],
  { PATH: process.env.PATH, BENCH_UPSTREAM: upstream.url },
  urlLine,
);
const tollgate = await startTollgate(upstream.url);

const arms: Arm[] = [
  { name: 'direct', url: upstream.url, model: 'fake-model', key: 'none' },
  { name: 'bare', url: bare.url, model: 'fake-model', key: 'none' },
  { name: 'tollgate', url: tollgate.child.url, model: 'bench-model', key: tollgate.key },
];

try {
  for (const arm of arms) await runLoad({ ...arm, connections: CONNECTIONS, seconds: WARMUP_SECONDS });
  const rounds = new Map<string, LoadResult[]>(arms.map((a) => [a.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const arm of arms) {
      const result = await runLoad({ ...arm, connections: CONNECTIONS, seconds: ROUND_SECONDS });
      if (result.non2xx > 0 || result.errors > 0) {
        throw new Error(
          `${arm.name}: ${result.non2xx} non-2xx answers and ${result.errors} errors; the run is invalid`,
        );
      }
      rounds.get(arm.name)?.push(result);
      process.stderr.write(`round ${round} ${arm.name}: ${result.rps.toFixed(0)} req/s\n`);
    }
  }
  const summary = Object.fromEntries(
    arms.map((arm) => {
      const results = rounds.get(arm.name) ?? [];
      return [
        arm.name,
        {
          rps: median(results.map((r) => r.rps)),
          p50Ms: median(results.map((r) => r.p50Ms)),
          p99Ms: median(results.map((r) => r.p99Ms)),
          requests: results.reduce((total, r) => total + r.requests, 0),
        },
      ];
    }),
  ) as Record<Arm['name'], { rps: number; p50Ms: number; p99Ms: number; requests: number }>;
  const ratios = {
    tollgateVsBare: summary.tollgate.rps / summary.bare.rps,
    tollgateVsDirect: summary.tollgate.rps / summary.direct.rps,
    bareVsDirect: summary.bare.rps / summary.direct.rps,
  };
  const report = {
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
    },
    node: process.version,
    load: {
      connections: CONNECTIONS,
      roundSeconds: ROUND_SECONDS,
      rounds: ROUNDS,
      request: 'non-streaming chat completion, max_tokens 16',
    },
    summary,
    ratios,
    target: { tollgateVsBare: TARGET_VS_BARE, met: ratios.tollgateVsBare >= TARGET_VS_BARE },
  };
  process.stdout.write(await writeReport(report));
} finally {
  await Promise.all([tollgate.child.stop(), bare.stop(), upstream.stop()]);
}
