import type { SoakResult } from './soak.js';

/** The soak's section of latest.md. */
export function soakMarkdown(soak: SoakResult | undefined): string[] {
  if (!soak) return ['## Soak', '', 'Skipped (BENCH_SOAK=0).', ''];
  const f = (value: number) => value.toFixed(1);
  return [
    `## Soak: ${soak.seconds} s at ${soak.connections} connections against Tollgate`,
    '',
    `${soak.rps.toFixed(0)} req/s, ${soak.requests} requests, ${soak.non2xx} failed. Tollgate's memory every 5 s (MiB):`,
    '',
    '| second | RSS | live heap (after a full GC) |',
    '|---|---|---|',
    ...soak.samples.map((s) => `| ${s.second} | ${f(s.rssMiB)} | ${f(s.heapUsedMiB)} |`),
    '',
    `- Mean of the second quarter: RSS ${f(soak.secondQuarter.rssMiB)}, heap ${f(soak.secondQuarter.heapUsedMiB)}; of the last quarter: RSS ${f(soak.lastQuarter.rssMiB)}, heap ${f(soak.lastQuarter.heapUsedMiB)}`,
    `- Memory levels off (last quarter within ${soak.toleranceRatio * 100}% of the second, RSS and heap): **${soak.levelsOff ? 'yes' : 'no'}**`,
    '',
  ];
}
