import { appendFileSync, existsSync } from 'node:fs';

/**
 * Loaded into a server under test with `node --import`: every BENCH_MEMORY_INTERVAL_MS (5 s) it
 * appends its memory figures as one JSON line to BENCH_MEMORY_FILE, for the soak scenario. A bench
 * aid only; Tollgate knows nothing of it. The timer is unref'd so it never keeps a process alive.
 */
const file = process.env.BENCH_MEMORY_FILE;
if (file) {
  const sample = () => {
    // Only while the soak runs (it creates `<file>.on`): a forced collection every 5 s during the
    // throughput scenarios would change what they measure.
    if (!existsSync(`${file}.on`)) return;
    // A full collection first (the server runs with --expose-gc), so that heapUsed is the live heap:
    // sampled at a random point of the collector's sawtooth, it swings 30-110 MiB with no leak at all.
    (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    appendFileSync(
      file,
      `${JSON.stringify({ at: Date.now(), rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal })}\n`,
    );
  };
  setInterval(sample, Number(process.env.BENCH_MEMORY_INTERVAL_MS ?? 5_000)).unref();
}
