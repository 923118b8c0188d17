import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../../../services/authenticate.js';
import type { BalanceReader } from '../../../services/billing/balances.js';
import type { ModelCatalogue } from '../../../services/catalogue.js';
import type { ChatCompletions } from '../../../services/chat/proxy-chat.js';
import type { Embeddings } from '../../../services/embeddings/embeddings.js';
import type { KeyUseRecorder } from '../../../services/key-use-recorder.js';
import type { RequestLimits } from '../../../services/limits/request-limits.js';
import { authHook } from '../../auth-hook.js';
import { sendFailure } from '../../error-envelope.js';
import { unknownUrl } from '../../error-handler.js';
import type { UnavailableAnswers } from '../../unavailable-answer.js';
import { balanceRoutes } from './balance.js';
import { modelRoutes } from './models.js';
import { proxiedPost } from './proxied-post.js';

export interface ApiDeps {
  readonly authenticator: Authenticator;
  readonly uses: KeyUseRecorder;
  readonly catalogue: ModelCatalogue;
  readonly chat: ChatCompletions;
  readonly completions: ChatCompletions;
  readonly embeddings: Embeddings;
  readonly balances: BalanceReader;
  readonly startedAt: number;
  /** The tiers' rate limits, for the headers of answers refused before admission. */
  readonly limits?: RequestLimits;
}

export interface BaseOptions extends ApiDeps {
  /** The path this instance of the API is served at: the base itself or one of its aliases. */
  readonly path: string;
  /** Tells a database outage from other errors, for streams an error ends after they began. */
  readonly unavailable?: UnavailableAnswers | undefined;
}

/** The inference API at /v1 (and its aliases): inference keys only, Bearer on every request, model discovery included. */
export async function inferenceApi(app: FastifyInstance, deps: BaseOptions): Promise<void> {
  const base = { path: deps.path, accepts: 'inference' } as const;
  app.addHook('onRequest', authHook(deps.authenticator, base, deps.uses));
  modelRoutes(app, deps.catalogue, Math.floor(deps.startedAt / 1000));
  balanceRoutes(app, deps.balances);
  proxiedPost(app, '/chat/completions', deps.chat, base.path, deps.limits, deps.unavailable);
  proxiedPost(app, '/completions', deps.completions, base.path, deps.limits, deps.unavailable);
  proxiedPost(app, '/embeddings', deps.embeddings, base.path, deps.limits, deps.unavailable);
  // Unknown routes under the base are authenticated first (the hook above applies), then reported.
  app.setNotFoundHandler((request, reply) => sendFailure(reply, unknownUrl(request.method, request.url)));
}
