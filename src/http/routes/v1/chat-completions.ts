import type { FastifyInstance } from 'fastify';
import type { ChatCompletions } from '../../../services/chat/proxy-chat.js';
import { principalOf } from '../../auth-hook.js';
import { replyChannel } from '../../client-channel.js';
import { sendFailure } from '../../error-envelope.js';
import { requestContext } from '../../request-context.js';

/** POST /chat/completions, and the legacy POST /completions, which share one pipeline. */
export function chatCompletionRoutes(
  app: FastifyInstance,
  path: string,
  chat: ChatCompletions,
  basePath: string,
): void {
  app.post(path, async (request, reply) => {
    const outcome = await chat.handle(
      principalOf(request),
      request.body,
      requestContext(request, basePath),
      replyChannel(reply),
    );
    if (outcome) return sendFailure(reply, outcome);
    return reply;
  });
}
