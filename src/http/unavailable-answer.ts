import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Failure, failure } from '../domain/errors.js';
import type { Metrics } from '../ports/metrics.js';
import type { ClassifyUnavailable, UnavailableReason } from '../ports/unavailable.js';
import { sendFailure } from './error-envelope.js';

/**
 * Seconds a client is told to wait. Short: behind a load balancer the retry may reach an instance
 * that is not fenced, and a database failover takes seconds.
 */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

/**
 * An outage is logged once: a refusal after this long without one starts a new outage. Every
 * refusal is counted (tollgate_unavailable_refusals_total), so the log need not repeat it.
 */
const QUIET_MS = 60_000;

const MESSAGES: Record<UnavailableReason, string> = {
  instance_fenced:
    'This instance has not reached its database for too long, so it admits no request it could not account for; nothing was charged. Retry shortly.',
  database_unreachable:
    'The service cannot reach its database right now; nothing was charged. Retry shortly.',
};

const LOG_LINES: Record<UnavailableReason, string> = {
  instance_fenced:
    'the ledger has not reached the database for half the instance timeout: requests are refused with 503 until a heartbeat succeeds',
  database_unreachable: 'the database cannot be reached: requests are refused with 503 until it answers',
};

/**
 * Turns a database that cannot be used into a 503 with `retry-after`, instead of a 500 and a
 * stack trace per request: logged once per outage, counted every time.
 */
export class UnavailableAnswers {
  private readonly lastRefusalAt = new Map<UnavailableReason, number>();

  constructor(
    private readonly classify: ClassifyUnavailable,
    private readonly metrics: Pick<Metrics, 'unavailableRefusal'> | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The failure to send for `error`, or undefined when it is not the database's absence. */
  refusal(error: unknown, request: FastifyRequest): Failure | undefined {
    const reason = this.classify(error);
    if (!reason) return undefined;
    this.metrics?.unavailableRefusal(reason);
    const now = this.now();
    const last = this.lastRefusalAt.get(reason);
    this.lastRefusalAt.set(reason, now);
    if (last === undefined || now - last >= QUIET_MS)
      request.log.warn(
        { reason, cause: error instanceof Error ? error.message : String(error) },
        LOG_LINES[reason],
      );
    return failure('service_unavailable', MESSAGES[reason]);
  }
}

/** The 503 in OpenAI's envelope, with `retry-after`, which OpenAI's SDKs honour when they retry. */
export function sendUnavailable(reply: FastifyReply, refusal: Failure): FastifyReply {
  reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
  return sendFailure(reply, refusal);
}
