import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { accountRoutes } from './account-routes.js';
import { authRoutes } from './auth-routes.js';
import type { DashboardApiDeps } from './deps.js';
import { installDashboardErrors } from './errors.js';
import { sameOriginHook, sessionHook } from './session.js';

export const DASHBOARD_API_PREFIX = '/dashboard/api';

export interface DashboardApiOptions extends DashboardApiDeps {
  readonly publicOrigin: () => string;
  readonly csrf: onRequestHookHandler;
}

/**
 * The dashboard's JSON API under /dashboard/api. It authenticates by session cookie only: an API
 * key in an Authorization header is never read here, so the two worlds cannot mix.
 */
export async function dashboardApi(app: FastifyInstance, options: DashboardApiOptions): Promise<void> {
  app.decorateRequest('dashboardSession', null);
  // Requests are validated by each route's zod schema (naming the failing field); the JSON schemas
  // derived from them only describe the API in the OpenAPI document.
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  installDashboardErrors(app, options.unavailable);
  app.addHook('onRequest', sameOriginHook(options.publicOrigin));
  app.addHook('onRequest', sessionHook(options.sessions, options.cookies));
  // Answers carry secrets shown once and account data: no cache may keep them.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('cache-control', 'no-store');
    done(null, payload);
  });
  app.get('/openapi.json', { schema: { hide: true }, config: { rateLimit: false } }, async () =>
    app.swagger(),
  );
  authRoutes(app, options, options.csrf);
  accountRoutes(app, options, options.csrf);
}
