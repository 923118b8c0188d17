import { Pool } from 'undici';

export interface StreamSample {
  /** From sending the request to the first content token, in µs. */
  readonly firstTokenUs: number;
  /** Gaps between consecutive content tokens, in µs. */
  readonly gapsUs: number[];
  /** Tokens missing or out of order, against the upstream's tok0, tok1, … sequence. */
  readonly lostOrReordered: number;
}

/**
 * Reads one streamed chat completion and times its tokens. The upstream sends `tokens` deltas
 * named tok0, tok1, …: any other order, or a missing one, is a lost or reordered frame.
 */
export async function readStream(
  pool: Pool,
  spec: { key: string; model: string; tokens: number },
): Promise<StreamSample> {
  const body = JSON.stringify({
    model: spec.model,
    messages: [{ role: 'user', content: 'Say hello' }],
    stream: true,
  });
  const started = process.hrtime.bigint();
  const response = await pool.request({
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${spec.key}` },
    body,
  });
  if (response.statusCode !== 200) throw new Error(`stream answered ${response.statusCode}`);
  let buffered = '';
  let expected = 0;
  let lostOrReordered = 0;
  let last: bigint | undefined;
  let firstTokenUs = Number.NaN;
  const gapsUs: number[] = [];
  for await (const chunk of response.body) {
    buffered += chunk.toString();
    let end = buffered.indexOf('\n\n');
    while (end !== -1) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      end = buffered.indexOf('\n\n');
      const match = /"content":"tok(\d+) "/.exec(event);
      if (!match) continue;
      const now = process.hrtime.bigint();
      if (last === undefined) firstTokenUs = Number(now - started) / 1000;
      else gapsUs.push(Number(now - last) / 1000);
      last = now;
      if (Number(match[1]) !== expected) lostOrReordered++;
      expected = Number(match[1]) + 1;
    }
  }
  lostOrReordered += Math.max(0, spec.tokens - expected);
  return { firstTokenUs, gapsUs, lostOrReordered };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export interface SseResult {
  readonly firstTokenP50Us: number;
  readonly firstTokenP99Us: number;
  readonly gapP99Us: number;
  readonly streams: number;
  readonly lostOrReordered: number;
}

export interface StreamSpec {
  url: string;
  key: string;
  model: string;
  tokens: number;
  count: number;
  concurrent: boolean;
}

/** `count` streams one after another (latency), or all at once (`concurrent`). */
export async function streamSamples(spec: StreamSpec): Promise<StreamSample[]> {
  const pool = new Pool(new URL(spec.url).origin, { connections: spec.concurrent ? spec.count : 1 });
  try {
    if (spec.concurrent)
      return await Promise.all(Array.from({ length: spec.count }, () => readStream(pool, spec)));
    const samples: StreamSample[] = [];
    for (let i = 0; i < spec.count; i++) samples.push(await readStream(pool, spec));
    return samples;
  } finally {
    await pool.close();
  }
}

export function summarizeStreams(samples: readonly StreamSample[]): SseResult {
  const firsts = samples.map((s) => s.firstTokenUs);
  return {
    firstTokenP50Us: percentile(firsts, 50),
    firstTokenP99Us: percentile(firsts, 99),
    gapP99Us: percentile(
      samples.flatMap((s) => s.gapsUs),
      99,
    ),
    streams: samples.length,
    lostOrReordered: samples.reduce((total, s) => total + s.lostOrReordered, 0),
  };
}

export async function measureStreams(spec: StreamSpec): Promise<SseResult> {
  return summarizeStreams(await streamSamples(spec));
}
