import type { FastifyInstance } from 'fastify';
import { failure } from '../../../domain/errors.js';
import type { ModelCatalogue } from '../../../services/catalogue.js';
import { sendFailure } from '../../error-envelope.js';

export function modelRoutes(app: FastifyInstance, catalogue: ModelCatalogue, createdAt: number): void {
  const toModel = (id: string, ownedBy: string) => ({
    id,
    object: 'model',
    created: createdAt,
    owned_by: ownedBy,
  });
  const list = { object: 'list', data: catalogue.models.map((m) => toModel(m.id, m.ownedBy)) };

  app.get('/models', async () => list);

  // Model ids contain slashes (deepseek/deepseek-v4-flash), so the rest of the path is the id.
  app.get('/models/*', async (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    const model = catalogue.find(name);
    if (!model)
      return sendFailure(reply, failure('model_not_found', `The model '${name}' does not exist.`, 'model'));
    return toModel(name, model.ownedBy);
  });
}
