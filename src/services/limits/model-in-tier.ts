import type { ModelConfig } from '../../config/load-config.js';
import { type Failure, failure } from '../../domain/errors.js';
import type { Principal } from '../authenticate.js';
import type { ModelCatalogue } from '../catalogue.js';
import type { RequestTrace } from '../request-trace.js';
import type { RequestLimits } from './request-limits.js';

export type ModelInTier =
  | { readonly ok: true; readonly model: ModelConfig }
  | { readonly ok: false; readonly failure: Failure };

/**
 * The first checks of every proxied endpoint: the model the request names exists (404, with the
 * endpoint's own message), and the key's tier may use it (403 `model_not_in_tier`). The trace
 * learns the model as soon as it is known, so that even a refusal is counted under it.
 */
export function modelInTier(
  catalogue: ModelCatalogue,
  limits: RequestLimits,
  request: {
    readonly principal: Principal;
    readonly model: string;
    readonly trace: RequestTrace | undefined;
  },
  notFoundMessage: string,
): ModelInTier {
  const model = catalogue.find(request.model);
  if (!model) return { ok: false, failure: failure('model_not_found', notFoundMessage, 'model') };
  if (request.trace) request.trace.model = model.id;
  const notInTier = limits.modelRefusal(request.principal, model.id);
  return notInTier ? { ok: false, failure: notInTier } : { ok: true, model };
}
