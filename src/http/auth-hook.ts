import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { ApiBase, Authenticator, Principal } from '../services/authenticate.js';
import type { KeyUseRecorder } from '../services/key-use-recorder.js';
import { sendFailure } from './error-envelope.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('route reached without authentication');
  return request.principal;
}

/**
 * Authenticates every request under an API base before its body is read, so that an
 * unauthenticated caller learns nothing about routes or body validation.
 */
export function authHook(
  authenticator: Authenticator,
  base: ApiBase,
  uses: KeyUseRecorder,
): onRequestAsyncHookHandler {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const queryAt = request.url.indexOf('?');
    const query = queryAt === -1 ? '' : request.url.slice(queryAt + 1);
    const outcome = await authenticator.authenticate(request.headers.authorization, query, base);
    if (!outcome.ok) {
      await sendFailure(reply, outcome.failure);
      return;
    }
    request.principal = outcome.principal;
    uses.record({ keyId: outcome.principal.keyId, at: Date.now(), ip: request.ip });
  };
}
