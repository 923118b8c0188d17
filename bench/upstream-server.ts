import { startFakeUpstream } from '../test/support/fake-openai-upstream.js';

/** The zero-latency provider every arm calls, in a process of its own. */
const upstream = await startFakeUpstream({
  firstByteDelayMs: Number(process.env.BENCH_UPSTREAM_DELAY_MS ?? 0),
});
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${upstream.port}` })}\n`);
