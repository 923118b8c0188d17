import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../services/chat/proxy-chat.js';
import { newRequestTrace } from '../services/request-trace.js';

/** What the services record about the request they serve. */
export function requestContext(request: FastifyRequest, basePath: string): RequestContext {
  // Read back by the request metrics hook once the answer is finished.
  const trace = newRequestTrace();
  request.trace = trace;
  return {
    requestId: String(request.id),
    basePath,
    clientIp: request.ip,
    userAgent: request.headers['user-agent'] ?? '',
    startedAt: Date.now(),
    trace,
  };
}
