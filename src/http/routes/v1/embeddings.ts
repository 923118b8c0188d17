import type { FastifyInstance } from 'fastify';
import type { Embeddings } from '../../../services/embeddings/embeddings.js';
import { principalOf } from '../../auth-hook.js';
import { replyChannel } from '../../client-channel.js';
import { sendFailure } from '../../error-envelope.js';
import { requestContext } from '../../request-context.js';

export function embeddingRoutes(app: FastifyInstance, embeddings: Embeddings, basePath: string): void {
  app.post('/embeddings', async (request, reply) => {
    const outcome = await embeddings.handle(
      principalOf(request),
      request.body,
      requestContext(request, basePath),
      replyChannel(reply),
    );
    if (outcome) return sendFailure(reply, outcome);
    return reply;
  });
}
