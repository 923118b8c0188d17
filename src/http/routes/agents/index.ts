import type { FastifyInstance } from 'fastify';
import { authHook } from '../../auth-hook.js';
import { sendFailure } from '../../error-envelope.js';
import { unknownUrl } from '../../error-handler.js';
import type { BaseOptions } from '../v1/index.js';
import { modelRoutes } from '../v1/models.js';
import { proxiedPost } from '../v1/proxied-post.js';
import { agentBalanceRoutes } from './balance.js';

/**
 * The agents API at /api/v1/agents, the legacy /api/chat-agent/v1 and their aliases: chat-agent
 * keys only. The same chat completions and models as /v1; requests spend the Pro chat quota first.
 */
export async function agentsApi(app: FastifyInstance, deps: BaseOptions): Promise<void> {
  const base = { path: deps.path, accepts: 'chat_agent' } as const;
  app.addHook('onRequest', authHook(deps.authenticator, base, deps.uses));
  modelRoutes(app, deps.catalogue, Math.floor(deps.startedAt / 1000));
  agentBalanceRoutes(app, deps.balances);
  proxiedPost(app, '/chat/completions', deps.chat, base.path, deps.limits, deps.unavailable);
  app.setNotFoundHandler((request, reply) => sendFailure(reply, unknownUrl(request.method, request.url)));
}
