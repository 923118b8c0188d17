import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Readiness } from '../ports/readiness.js';

/** What Prometheus scrapes. */
export interface MetricsExporter {
  readonly contentType: string;
  exposition(): Promise<string>;
}

/**
 * /readyz, for a load balancer: 200 while this instance can serve, 503 with the reason otherwise.
 * Only the database decides. Redis is left out on purpose: every instance shares it, so an outage
 * would take them all out of the balancer at once, while each can serve without it (degraded).
 */
export function readinessRoute(app: FastifyInstance, ready: () => Promise<Readiness>): void {
  app.get('/readyz', async (_request, reply) => {
    const readiness = await ready();
    if (readiness.ok) return reply.code(200).send({ status: 'ready' });
    return reply.code(503).send({ status: 'not_ready', reason: readiness.reason });
  });
}

/** SHA-256 of both sides first: timingSafeEqual needs equal lengths, and lengths must not leak either. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function authorized(request: FastifyRequest, token: string): boolean {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  return sameSecret(header.slice('Bearer '.length), token);
}

function refuse(reply: FastifyReply): FastifyReply {
  return reply
    .code(401)
    .header('www-authenticate', 'Bearer realm="metrics"')
    .send({
      error: {
        message: 'Send the metrics token: Authorization: Bearer <TOLLGATE_METRICS_TOKEN>.',
        type: 'invalid_request_error',
        code: 'invalid_metrics_token',
        param: null,
      },
    });
}

/**
 * GET /metrics in Prometheus' text format. With a token, only `Authorization: Bearer <token>` is
 * answered; without one, the caller must be where only the operator can reach (a separate address).
 */
export function metricsRoute(
  app: FastifyInstance,
  exporter: MetricsExporter,
  token: string | undefined,
): void {
  app.get('/metrics', async (request, reply) => {
    if (token !== undefined && !authorized(request, token)) return refuse(reply);
    const body = await exporter.exposition();
    return reply.code(200).type(exporter.contentType).header('cache-control', 'no-store').send(body);
  });
}

/** A server of its own for /metrics, on the address `metrics.listen` names (loopback, typically). */
export async function startMetricsServer(
  address: { readonly host: string; readonly port: number },
  exporter: MetricsExporter,
  token: string | undefined,
): Promise<{ readonly url: string; close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  metricsRoute(app, exporter, token);
  const url = await app.listen({ host: address.host, port: address.port });
  return { url, close: () => app.close() };
}
