import type { FastifyInstance } from 'fastify';
import { failure } from '../../../domain/errors.js';
import type { Tier } from '../../../domain/tiers.js';
import type { ModelCatalogue } from '../../../services/catalogue.js';
import { tierRefusal } from '../../../services/limits/request-limits.js';
import { principalOf } from '../../auth-hook.js';
import { sendFailure } from '../../error-envelope.js';

export function modelRoutes(app: FastifyInstance, catalogue: ModelCatalogue, createdAt: number): void {
  const toModel = (id: string, ownedBy: string) => ({
    id,
    object: 'model',
    created: createdAt,
    owned_by: ownedBy,
  });
  const all = { object: 'list', data: catalogue.models.map((m) => toModel(m.id, m.ownedBy)) };
  // A tier lists only the models it may use; each tier's list is built once.
  const byTier = new Map<Tier, typeof all>();
  const listFor = (tier: Tier | undefined) => {
    if (tier === undefined || tier.models === 'all') return all;
    const models = tier.models;
    let list = byTier.get(tier);
    if (!list) {
      list = { object: 'list', data: all.data.filter((m) => models.has(m.id)) };
      byTier.set(tier, list);
    }
    return list;
  };

  app.get('/models', async (request) => listFor(principalOf(request).tier));

  // Model ids contain slashes (deepseek/deepseek-v4-flash), so the rest of the path is the id.
  app.get('/models/*', async (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    const model = catalogue.find(name);
    if (!model)
      return sendFailure(reply, failure('model_not_found', `The model '${name}' does not exist.`, 'model'));
    const notInTier = tierRefusal(principalOf(request), model.id);
    if (notInTier) return sendFailure(reply, notInTier);
    return toModel(name, model.ownedBy);
  });
}
