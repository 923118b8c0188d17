/**
 * Durations of `npm run bench`. BENCH_QUICK=1 shortens every scenario for iterating (figures are
 * then rougher); BENCH_SOAK=0 skips the soak, which runs by default.
 */
const quick = process.env.BENCH_QUICK === '1';

export const settings = {
  quick,
  warmupSeconds: quick ? 1 : 2,
  roundSeconds: quick ? 2 : 5,
  maxLoadRounds: quick ? 1 : 3,
  slowRounds: quick ? 1 : 2,
  latencySeconds: quick ? 1 : 3,
  latencyRounds: quick ? 1 : 2,
  /** The SSE scenario: 64 deltas sent 20 ms apart, as in issue 5. */
  sseTokens: 64,
  sseSequentialStreams: quick ? 3 : 10,
  sseConcurrentStreams: 256,
  soak: process.env.BENCH_SOAK !== '0',
  soakSeconds: quick ? 20 : 120,
  soakConnections: 16,
} as const;
