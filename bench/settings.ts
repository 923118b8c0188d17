/**
 * Durations of `npm run bench`. BENCH_QUICK=1 shortens every scenario for iterating (figures are
 * then rougher); BENCH_SOAK=0 skips the soak, which runs by default.
 */
const quick = process.env.BENCH_QUICK === '1';

export const settings = {
  quick,
  warmupSeconds: quick ? 1 : 2,
  // Many short rounds rather than a few long ones: the figures compared with the targets are
  // medians of per-round comparisons, and this machine's speed drifts by up to 2× within a minute.
  roundSeconds: quick ? 2 : 3,
  maxLoadRounds: quick ? 2 : 9,
  slowRounds: quick ? 2 : 5,
  latencySeconds: quick ? 1 : 2,
  latencyRounds: quick ? 2 : 7,
  /** The PostgreSQL arm's rounds at maximum load (its latency takes latencyRounds too). */
  postgresRounds: quick ? 2 : 5,
  /** BENCH_POSTGRES=0 skips the PostgreSQL arm, which runs by default where PostgreSQL is installed. */
  postgres: process.env.BENCH_POSTGRES !== '0',
  /** The SSE scenario: 64 deltas sent 20 ms apart, as in issue 5. */
  sseTokens: 64,
  sseSequentialStreams: quick ? 3 : 20,
  sseConcurrentStreams: 256,
  soak: process.env.BENCH_SOAK !== '0',
  soakSeconds: quick ? 20 : 120,
  soakConnections: 16,
} as const;
