import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface Report {
  date: string;
  machine: { cpu: string; cores: number; memoryGiB: number };
  node: string;
  load: { connections: number; roundSeconds: number; rounds: number; request: string };
  summary: Record<string, { rps: number; p50Ms: number; p99Ms: number; requests: number }>;
  ratios: { tollgateVsBare: number; tollgateVsDirect: number; bareVsDirect: number };
  target: { tollgateVsBare: number; met: boolean };
}

/** Writes bench/results/latest.{json,md} and returns the markdown. */
export async function writeReport(report: Report): Promise<string> {
  const rows = Object.entries(report.summary).map(
    ([arm, s]) =>
      `| ${arm} | ${s.rps.toFixed(0)} | ${s.p50Ms.toFixed(1)} | ${s.p99Ms.toFixed(1)} | ${s.requests} |`,
  );
  const markdown = [
    `# Benchmark, ${report.date}`,
    '',
    `${report.machine.cores} × ${report.machine.cpu}, ${report.machine.memoryGiB} GiB, Node ${report.node}.`,
    `${report.load.connections} connections, ${report.load.rounds} interleaved rounds of ${report.load.roundSeconds} s per arm (medians shown); ${report.load.request}; zero-latency fake upstream. Load generator, upstream and gateway share the machine's cores.`,
    '',
    '| arm | req/s | p50 ms | p99 ms | requests |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `- Tollgate / bare pass-through: **${report.ratios.tollgateVsBare.toFixed(2)}×** (target ≥ ${report.target.tollgateVsBare}×: ${report.target.met ? 'met' : 'not met'})`,
    `- Tollgate / direct: ${report.ratios.tollgateVsDirect.toFixed(2)}×`,
    `- bare pass-through / direct: ${report.ratios.bareVsDirect.toFixed(2)}×`,
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
