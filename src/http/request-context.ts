import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../services/chat/proxy-chat.js';

/** What the services record about the request they serve. */
export function requestContext(request: FastifyRequest, basePath: string): RequestContext {
  return {
    requestId: String(request.id),
    basePath,
    clientIp: request.ip,
    userAgent: request.headers['user-agent'] ?? '',
    startedAt: Date.now(),
  };
}
