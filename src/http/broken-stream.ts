import type { FastifyReply } from 'fastify';
import { failure } from '../domain/errors.js';
import { sseEvent } from '../services/chat/client-events.js';
import { envelope } from './error-envelope.js';
import { internalError } from './error-handler.js';
import type { UnavailableAnswers } from './unavailable-answer.js';

/**
 * Ends an event stream that an error broke after it began. The error handler can no longer answer
 * (the status line is sent), and a stream left open would hang its client: it gets OpenAI's error
 * event instead, no `[DONE]`, and the end of the response.
 *
 * After the stream began, the only database work left is the settlement, which is then kept and
 * retried (services/billing/closing-retries.ts): the event says the answer will be charged.
 */
export function endBrokenStream(reply: FastifyReply, error: unknown, unavailable?: UnavailableAnswers): void {
  const { request, raw } = reply;
  const unreachable = unavailable?.refusal(error, request);
  if (!unreachable) request.log.error({ err: error }, 'unhandled error after the stream began');
  const ending = unreachable
    ? failure(
        'service_unavailable',
        'The service lost its database before this answer was recorded: the answer is not complete, and it is charged once the database is back.',
      )
    : internalError(request.id);
  if (raw.writableEnded || raw.destroyed) return;
  raw.end(sseEvent(envelope(ending)));
}
