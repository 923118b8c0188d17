import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { failure } from '../domain/errors.js';
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
 * Node keeps the first of several Authorization headers and drops the rest, so they are counted in
 * the raw headers: a request that sends two is refused rather than guessed at.
 */
function authorizationHeaders(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') count++;
  }
  return count;
}

const ONE_AUTHORIZATION = failure('invalid_api_key', 'Send exactly one Authorization header.');

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
    if (authorizationHeaders(request.raw.rawHeaders) > 1) {
      await sendFailure(reply, ONE_AUTHORIZATION);
      return;
    }
    const ip = request.ip;
    const outcome = await authenticator.authenticate(request.headers.authorization, query, base, ip);
    if (!outcome.ok) {
      await sendFailure(reply, outcome.failure);
      return;
    }
    request.principal = outcome.principal;
    uses.record({ keyId: outcome.principal.keyId, at: Date.now(), ip });
  };
}
