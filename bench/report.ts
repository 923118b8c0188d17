import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

type Arms<T> = Record<'direct' | 'bare' | 'tollgate', T>;
type Throughput = { rps: number; p50Ms: number; p99Ms: number; requests: number };

export interface Report {
  date: string;
  machine: { cpu: string; cores: number; memoryGiB: number };
  node: string;
  request: string;
  maxLoad: {
    connections: number;
    arms: Arms<Throughput>;
    tollgateVsBare: number;
    tollgateVsDirect: number;
    bareVsDirect: number;
    target: number;
  };
  slowUpstream: {
    connections: number;
    upstreamDelayMs: number;
    arms: Arms<Throughput>;
    tollgateVsDirect: number;
    target: number;
  };
  latency: {
    connections: number;
    arms: Arms<{ p50Us: number; p99Us: number; requests: number }>;
    addedP50Us: { bare: number; tollgate: number };
    addedP99Us: { bare: number; tollgate: number };
  };
}

const met = (ok: boolean) => (ok ? 'met' : 'not met');

function throughputRows(arms: Arms<Throughput>): string[] {
  return [
    '| arm | req/s | p50 ms | p99 ms | requests |',
    '|---|---|---|---|---|',
    ...Object.entries(arms).map(
      ([arm, s]) =>
        `| ${arm} | ${s.rps.toFixed(0)} | ${s.p50Ms.toFixed(1)} | ${s.p99Ms.toFixed(1)} | ${s.requests} |`,
    ),
  ];
}

/** Writes bench/results/latest.{json,md} and returns the markdown. */
export async function writeReport(report: Report): Promise<string> {
  const { maxLoad, slowUpstream, latency } = report;
  const markdown = [
    `# Benchmark, ${report.date}`,
    '',
    `${report.machine.cores} × ${report.machine.cpu}, ${report.machine.memoryGiB} GiB, Node ${report.node}. Every request: ${report.request}. Load generator, upstreams and gateways share the machine's cores; each server runs in its own process; arms are interleaved in rounds and medians shown.`,
    '',
    `## Maximum load: ${maxLoad.connections} connections, zero-latency upstream`,
    '',
    ...throughputRows(maxLoad.arms),
    '',
    `- Tollgate / bare pass-through: **${maxLoad.tollgateVsBare.toFixed(2)}×** (target ≥ ${maxLoad.target}×: ${met(maxLoad.tollgateVsBare >= maxLoad.target)})`,
    `- Tollgate / direct: ${maxLoad.tollgateVsDirect.toFixed(2)}×; bare pass-through / direct: ${maxLoad.bareVsDirect.toFixed(2)}×`,
    '',
    `## ${slowUpstream.connections} connections, upstream answering after ${slowUpstream.upstreamDelayMs} ms`,
    '',
    ...throughputRows(slowUpstream.arms),
    '',
    `- Tollgate / direct: **${slowUpstream.tollgateVsDirect.toFixed(3)}×** (issue 5 target ≥ ${slowUpstream.target}×: ${met(slowUpstream.tollgateVsDirect >= slowUpstream.target)})`,
    '',
    `## Latency at ${latency.connections} connection, zero-latency upstream (µs)`,
    '',
    '| arm | p50 µs | p99 µs | requests |',
    '|---|---|---|---|',
    ...Object.entries(latency.arms).map(
      ([arm, s]) => `| ${arm} | ${s.p50Us.toFixed(0)} | ${s.p99Us.toFixed(0)} | ${s.requests} |`,
    ),
    '',
    `- Added over direct, p50: bare ${latency.addedP50Us.bare.toFixed(0)} µs, Tollgate ${latency.addedP50Us.tollgate.toFixed(0)} µs`,
    `- Added over direct, p99: bare ${latency.addedP99Us.bare.toFixed(0)} µs, Tollgate ${latency.addedP99Us.tollgate.toFixed(0)} µs`,
    '',
    'Reproduce with `npm run bench`.',
    '',
  ].join('\n');
  const dir = path.resolve('bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(dir, 'latest.md'), markdown);
  return markdown;
}
