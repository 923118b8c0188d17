import { appendFileSync } from 'node:fs';

/**
 * Loaded into a server under test with `node --import`: every BENCH_MEMORY_INTERVAL_MS (5 s) it
 * appends its memory figures as one JSON line to BENCH_MEMORY_FILE, for the soak scenario. A bench
 * aid only; Tollgate knows nothing of it. The timer is unref'd so it never keeps a process alive.
 */
const file = process.env.BENCH_MEMORY_FILE;
if (file) {
  const sample = () => {
    const memory = process.memoryUsage();
    appendFileSync(
      file,
      `${JSON.stringify({ at: Date.now(), rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal })}\n`,
    );
  };
  setInterval(sample, Number(process.env.BENCH_MEMORY_INTERVAL_MS ?? 5_000)).unref();
}
