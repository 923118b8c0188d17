import { Pool } from 'undici';

export interface LatencyResult {
  readonly p50Us: number;
  readonly p99Us: number;
  /** For profiling the tail (bench/profile.ts); the report shows p50 and p99. */
  readonly p90Us: number;
  readonly p999Us: number;
  readonly requests: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * Latency at one connection, in microseconds: one request at a time for `seconds`, timed with
 * hrtime around the whole exchange (autocannon reports whole milliseconds, too coarse here).
 */
export async function measureLatency(spec: {
  url: string;
  key: string;
  model: string;
  seconds: number;
}): Promise<LatencyResult> {
  const origin = new URL(spec.url);
  const pool = new Pool(origin.origin, { connections: 1 });
  const body = JSON.stringify({
    model: spec.model,
    messages: [{ role: 'user', content: 'Say hello' }],
    max_tokens: 16,
  });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${spec.key}` };
  const samples: number[] = [];
  const deadline = Date.now() + spec.seconds * 1000;
  try {
    while (Date.now() < deadline) {
      const started = process.hrtime.bigint();
      const response = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers, body });
      await response.body.arrayBuffer();
      if (response.statusCode !== 200) throw new Error(`${spec.url} answered ${response.statusCode}`);
      samples.push(Number(process.hrtime.bigint() - started) / 1000);
    }
  } finally {
    await pool.close();
  }
  samples.sort((a, b) => a - b);
  return {
    p50Us: percentile(samples, 50),
    p90Us: percentile(samples, 90),
    p99Us: percentile(samples, 99),
    p999Us: percentile(samples, 99.9),
    requests: samples.length,
  };
}
