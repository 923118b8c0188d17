import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { DASHBOARD_ERRORS, type DashboardFailure } from '../../../domain/dashboard-errors.js';
import { UNAVAILABLE_RETRY_AFTER_SECONDS, type UnavailableAnswers } from '../../unavailable-answer.js';

/** The dashboard API's envelope: `{ "error": { "code", "message", "field"? } }`. */
export function sendDashboardFailure(reply: FastifyReply, failure: DashboardFailure): FastifyReply {
  const spec = DASHBOARD_ERRORS[failure.code];
  if (failure.retryAfterSeconds !== undefined) reply.header('retry-after', String(failure.retryAfterSeconds));
  return reply
    .code(spec.status)
    .type('application/json; charset=utf-8')
    .send({
      error: {
        code: failure.code,
        message: failure.message ?? spec.message,
        ...(failure.field === undefined ? {} : { field: failure.field }),
      },
    });
}

function failureOf(error: FastifyError): DashboardFailure | undefined {
  if (error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET')
    return { code: 'csrf_invalid' };
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return { code: 'invalid_request', message: 'The request body is too large.' };
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return { code: 'invalid_request', message: "Send the body as 'application/json'." };
  if (error.statusCode === 429) return { code: 'too_many_attempts' };
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
    return { code: 'invalid_request', message: 'The request could not be read: send a JSON object.' };
  return undefined;
}

export function installDashboardErrors(app: FastifyInstance, unavailable?: UnavailableAnswers): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const failure = failureOf(error);
    if (failure) return sendDashboardFailure(reply, failure);
    if (unavailable?.refusal(error, request))
      return sendDashboardFailure(reply, {
        code: 'service_unavailable',
        retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
      });
    request.log.error({ err: error }, 'unhandled dashboard error');
    return sendDashboardFailure(reply, {
      code: 'internal_error',
      message: `The server had an error while processing your request. Quote request id ${request.id} when reporting it.`,
    });
  });
  app.setNotFoundHandler((_request, reply) => sendDashboardFailure(reply, { code: 'not_found' }));
}
