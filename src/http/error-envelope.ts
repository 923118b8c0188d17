import type { FastifyReply } from 'fastify';
import { ERROR_CATALOGUE, type Failure } from '../domain/errors.js';

/** OpenAI's error envelope, so OpenAI SDKs raise AuthenticationError, PermissionDeniedError and the rest. */
export function envelope(failureValue: Failure) {
  const spec = ERROR_CATALOGUE[failureValue.code];
  return {
    error: {
      message: failureValue.message ?? spec.message,
      type: failureValue.type ?? spec.type,
      code: failureValue.code,
      param: failureValue.param ?? null,
      ...failureValue.details,
    },
  };
}

export function sendFailure(reply: FastifyReply, failureValue: Failure): FastifyReply {
  return reply
    .code(ERROR_CATALOGUE[failureValue.code].status)
    .type('application/json; charset=utf-8')
    .send(envelope(failureValue));
}
