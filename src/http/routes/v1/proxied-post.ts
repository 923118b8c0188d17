import type { FastifyInstance } from 'fastify';
import type { Failure } from '../../../domain/errors.js';
import type { ClientChannel } from '../../../ports/client-channel.js';
import type { Principal } from '../../../services/authenticate.js';
import type { RequestContext } from '../../../services/chat/proxy-chat.js';
import type { RequestLimits } from '../../../services/limits/request-limits.js';
import { principalOf } from '../../auth-hook.js';
import { endBrokenStream } from '../../broken-stream.js';
import { replyChannel } from '../../client-channel.js';
import { sendFailure } from '../../error-envelope.js';
import { requestContext } from '../../request-context.js';
import type { UnavailableAnswers } from '../../unavailable-answer.js';

/** A service that answers a proxied request itself, or returns the failure to render. */
export interface ProxiedService {
  handle(
    principal: Principal,
    body: unknown,
    context: RequestContext,
    channel: ClientChannel,
  ): Promise<Failure | undefined>;
}

/** POST routes that are proxied upstream: chat completions, legacy completions, embeddings. */
export function proxiedPost(
  app: FastifyInstance,
  path: string,
  service: ProxiedService,
  basePath: string,
  limits?: RequestLimits,
  unavailable?: UnavailableAnswers,
): void {
  app.post(path, async (request, reply) => {
    const principal = principalOf(request);
    const channel = replyChannel(reply);
    let outcome: Failure | undefined;
    try {
      outcome = await service.handle(principal, request.body, requestContext(request, basePath), channel);
    } catch (error) {
      // Before the first byte the error handler answers; after it, the stream is ended here.
      if (!reply.raw.headersSent) throw error;
      endBrokenStream(reply, error, unavailable);
      return reply;
    }
    if (!outcome) return reply;
    // Refused before the limits were consulted (a bad body, a model outside the tier): the
    // headers still say where the account stands, as on every other answer.
    if (
      limits &&
      !reply.hasHeader('x-ratelimit-limit-requests') &&
      !reply.hasHeader('x-ratelimit-limit-tokens')
    )
      await limits.describe(principal, channel);
    return sendFailure(reply, outcome);
  });
}
