import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../ports/metrics.js';
import type { RequestTrace } from '../services/request-trace.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Filled in by the service that serves a proxied request; null on every other route. */
    trace: RequestTrace | null;
  }
}

/** What a request that matched no route is counted under: its raw path would be unbounded. */
const UNMATCHED = 'unmatched';

/**
 * One series update per finished request, labelled with the route's template (`/v1/models/:id`),
 * never the raw path, which may carry ids or a one-time token, and whose values are unbounded.
 */
export function installRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  // A callback hook, not an async one: no promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    const trace = request.trace;
    metrics.requestFinished({
      route: request.routeOptions.url ?? UNMATCHED,
      method: request.method,
      status: reply.statusCode,
      model: trace?.model,
      provider: trace?.provider,
      totalSeconds: reply.elapsedTime / 1000,
      upstreamSeconds: trace?.upstreamSeconds,
    });
    done();
  });
}
