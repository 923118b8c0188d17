import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { runLoad } from './load.js';

export interface MemorySample {
  /** Seconds since the soak began. */
  readonly second: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
}

export interface SoakResult {
  readonly seconds: number;
  readonly connections: number;
  readonly rps: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly samples: MemorySample[];
  /** Means of the second and of the last quarter of the samples: warm-up is over by the second. */
  readonly secondQuarter: { rssMiB: number; heapUsedMiB: number };
  readonly lastQuarter: { rssMiB: number; heapUsedMiB: number };
  /** Neither RSS nor heap grew by more than `toleranceRatio` from the second quarter to the last. */
  readonly levelsOff: boolean;
  readonly toleranceRatio: number;
}

const MiB = 2 ** 20;
const TOLERANCE = 0.05;

function mean(samples: MemorySample[]) {
  const n = Math.max(1, samples.length);
  return {
    rssMiB: samples.reduce((total, s) => total + s.rssMiB, 0) / n,
    heapUsedMiB: samples.reduce((total, s) => total + s.heapUsedMiB, 0) / n,
  };
}

/**
 * Steady moderate load on one server for `seconds`, its memory read from the lines that
 * memory-reporter.ts appends to `memoryFile` every 5 s. Memory levels off when the last quarter's
 * mean is within 5% of the second quarter's, for RSS and heap alike.
 */
export async function soak(spec: {
  url: string;
  key: string;
  model: string;
  connections: number;
  seconds: number;
  memoryFile: string;
}): Promise<SoakResult> {
  const started = Date.now();
  writeFileSync(`${spec.memoryFile}.on`, '');
  const load = await runLoad({ ...spec });
  rmSync(`${spec.memoryFile}.on`);
  const ended = Date.now();
  const samples = readFileSync(spec.memoryFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { at: number; rss: number; heapUsed: number })
    .filter((s) => s.at >= started && s.at <= ended)
    .map((s) => ({
      second: Math.round((s.at - started) / 1000),
      rssMiB: s.rss / MiB,
      heapUsedMiB: s.heapUsed / MiB,
    }));
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  const secondQuarter = mean(samples.slice(quarter, 2 * quarter));
  const lastQuarter = mean(samples.slice(samples.length - quarter));
  const within = (late: number, early: number) => late <= early * (1 + TOLERANCE);
  return {
    seconds: spec.seconds,
    connections: spec.connections,
    rps: load.rps,
    requests: load.requests,
    non2xx: load.non2xx + load.errors,
    samples,
    secondQuarter,
    lastQuarter,
    levelsOff:
      samples.length >= 4 &&
      within(lastQuarter.rssMiB, secondQuarter.rssMiB) &&
      within(lastQuarter.heapUsedMiB, secondQuarter.heapUsedMiB),
    toleranceRatio: TOLERANCE,
  };
}
