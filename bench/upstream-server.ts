import { startFakeUpstream } from '../test/support/fake-openai-upstream.js';

/** A fake provider in a process of its own: zero-latency by default, or slow, or a paced stream. */
const upstream = await startFakeUpstream({
  firstByteDelayMs: Number(process.env.BENCH_UPSTREAM_DELAY_MS ?? 0),
  replyTokens: Number(process.env.BENCH_REPLY_TOKENS ?? 12),
  chunkIntervalMs: Number(process.env.BENCH_CHUNK_INTERVAL_MS ?? 0),
  // Nothing asserts on what it received; recording would grow its heap with every request.
  record: false,
});
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${upstream.port}` })}\n`);
