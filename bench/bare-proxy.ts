import Fastify from 'fastify';
import { Pool } from 'undici';

/**
 * The control arm: the least a Node gateway on the same stack does. Fastify parses the JSON body,
 * undici forwards it over a kept-alive pool, and the answer is streamed back. No authentication,
 * no billing, no logging.
 */
const upstream = process.env.BENCH_UPSTREAM;
if (!upstream) throw new Error('BENCH_UPSTREAM is required');
const pool = new Pool(upstream, { connections: 256, keepAliveTimeout: 30_000 });
const app = Fastify({ logger: false });

app.post('/v1/chat/completions', async (request, reply) => {
  const response = await pool.request({
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request.body),
  });
  reply
    .code(response.statusCode)
    .header('content-type', response.headers['content-type'] ?? 'application/json');
  return reply.send(response.body);
});

const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ url: address })}\n`);

// Exit normally on SIGTERM, so that a CPU profile taken with --cpu-prof is written.
process.once('SIGTERM', () => process.exit(0));
