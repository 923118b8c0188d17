import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance, FastifyPluginAsync, onRequestHookHandler } from 'fastify';
import type { RateCounters } from '../../../ports/users.js';
import { DASHBOARD_API_PREFIX, dashboardApi } from './api.js';
import type { DashboardApiDeps } from './deps.js';
import { databaseRateLimitStore } from './rate-limit-store.js';
import { webApp } from './web-app.js';

export interface DashboardOptions extends DashboardApiDeps {
  /** server.public_url, resolved once the server listens when it is not configured. */
  readonly publicUrl: () => string;
  /** Secret for the CSRF tokens' HMAC, derived from TOLLGATE_KEY_SECRET so every instance shares it. */
  readonly csrfKey: string;
  readonly counters: RateCounters;
  readonly webRoot: string | undefined;
  /** Every API base and alias: never answered with the web app. */
  readonly apiPaths: readonly string[];
}

/**
 * The dashboard as one encapsulated plugin: its cookie, CSRF, security headers, rate limits,
 * OpenAPI document and static files are registered in here only, so the API's routes run exactly
 * the hooks they ran before (see test/http/dashboard-isolation.test.ts).
 */
export function dashboardPlugin(options: DashboardOptions): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const { cookies } = options;
    await app.register(fastifyHelmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          ...(cookies.secure ? { upgradeInsecureRequests: [] } : {}),
        },
      },
      hsts: cookies.secure ? { maxAge: 31_536_000 } : false,
    });
    await app.register(fastifyCookie);
    await app.register(fastifyCsrf, {
      cookieKey: cookies.csrf,
      cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true, secure: cookies.secure },
      getToken: (request) => {
        const token = request.headers['x-csrf-token'];
        return typeof token === 'string' ? token : undefined;
      },
      // The token is bound to the session: a token from another session (or none) is refused.
      getUserInfo: (request) => request.dashboardSession?.idHash ?? '',
      csrfOpts: { hmacKey: options.csrfKey, userInfo: true },
    });
    await app.register(fastifyRateLimit, {
      global: false,
      store: databaseRateLimitStore(options.counters, () => options.clock.now()),
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        error: { code: 'too_many_attempts', message: `Too many requests. Try again in ${context.after}.` },
      }),
    });
    await app.register(fastifySwagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'Tollgate dashboard API',
          version: '1',
          description:
            'The JSON API behind the dashboard. Session cookie authentication; state-changing requests carry x-csrf-token.',
        },
      },
      transform: ({ schema, url }) => ({
        schema: url.startsWith(DASHBOARD_API_PREFIX) ? schema : { ...schema, hide: true },
        url,
      }),
    });
    const csrf = app.csrfProtection.bind(app) as onRequestHookHandler;
    await app.register(dashboardApi, {
      ...options,
      prefix: DASHBOARD_API_PREFIX,
      publicOrigin: options.publicUrl,
      csrf,
    });
    await webApp(app, {
      root: options.webRoot,
      apiPaths: [...options.apiPaths, DASHBOARD_API_PREFIX, '/api'],
    });
  };
}
