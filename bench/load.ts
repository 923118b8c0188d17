import autocannon from 'autocannon';

export interface LoadResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
}

export interface LoadSpec {
  readonly url: string;
  readonly key: string;
  readonly model: string;
  readonly connections: number;
  readonly seconds: number;
}

/** A fixed, bounded load: a small non-streaming chat completion, `connections` at a time, for `seconds`. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const result = await autocannon({
    url: `${spec.url}/v1/chat/completions`,
    method: 'POST',
    connections: spec.connections,
    duration: spec.seconds,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${spec.key}` },
    body: JSON.stringify({
      model: spec.model,
      messages: [{ role: 'user', content: 'Say hello' }],
      max_tokens: 16,
    }),
  });
  return {
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}
