import { hostname } from 'node:os';
import Fastify, {
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import type { DestinationStream } from 'pino';
import { type Redact, redactNothing } from '../domain/redact-secrets.js';
import type { Metrics } from '../ports/metrics.js';
import type { Readiness } from '../ports/readiness.js';
import { sendFailure } from './error-envelope.js';
import { clientErrorHandler, installErrorHandling, unknownUrl } from './error-handler.js';
import { installJsonBody } from './json-body.js';
import { lazyChildLogger } from './lazy-child-logger.js';
import { type MetricsExporter, metricsRoute, readinessRoute } from './operations.js';
import { installRequestMetrics } from './request-metrics.js';
import { agentsApi } from './routes/agents/index.js';
import { type ApiDeps, inferenceApi } from './routes/v1/index.js';
import type { UnavailableAnswers } from './unavailable-answer.js';

type LoggerOptions = Exclude<FastifyServerOptions['logger'], undefined>;

export interface AppOptions {
  readonly bodyLimitBytes: number;
  /** A hop count or the proxies' addresses; never `true`, which lets any client choose its address. */
  readonly trustProxy: false | number | readonly string[];
  readonly logger: LoggerOptions;
  readonly newRequestId: () => string;
  /** One log line per finished request. Off by default: usage_records keeps every request durably. */
  readonly accessLog: boolean;
  /** Every path each API is served at: the base first, then the operator's aliases. */
  readonly basePaths: { readonly inference: readonly string[]; readonly agents: readonly string[] };
  /**
   * The dashboard, in its own encapsulated plugin: its cookies, CSRF, headers and rate limits never
   * touch the API's routes. It answers the URLs no API base claims (the root not-found handler).
   */
  readonly dashboard?: FastifyPluginAsync;
  /** Told of every finished request: route template, status, model, provider, durations. */
  readonly metrics?: Metrics;
  /** Answers /readyz: whether the database answers with every migration applied. */
  readonly ready?: () => Promise<Readiness>;
  /** GET /metrics on this port, behind this bearer token. Absent: not served here (404). */
  readonly metricsEndpoint?: { readonly exporter: MetricsExporter; readonly token: string };
  /** Tells a database that cannot be used from other errors: those requests get a 503, not a 500. */
  readonly unavailable?: UnavailableAnswers;
}

/** A one-time link's token in a path (the dashboard's /invite/…, /reset/…, /verify/… pages and API). */
const LINK_TOKEN = /^((?:\/dashboard\/api\/auth)?\/(?:invite|reset|verify))\/[^/]+/;

/**
 * Only the path is ever logged: a query string may carry a key that a careless client put there,
 * and a one-time link's token is cut from the path.
 */
function pathOnly(url: string): string {
  const at = url.indexOf('?');
  const path = at === -1 ? url : url.slice(0, at);
  return path.replace(LINK_TOKEN, '$1/[redacted]');
}

/**
 * Logs never carry a key: the Authorization header and key fields are cut by path, and `redact`
 * removes the configured secrets' exact values from every finished line, wherever they appear
 * (an error message quoting a provider's answer, say).
 */
export function loggerOptions(
  level: string,
  stream?: DestinationStream,
  redact: Redact = redactNothing,
  instance?: string,
): LoggerOptions {
  return {
    level,
    // Serialized once into every line's prefix: the instance costs nothing per line.
    ...(instance === undefined ? {} : { base: { pid: process.pid, hostname: hostname(), instance } }),
    ...(stream ? { stream } : {}),
    ...(redact === redactNothing ? {} : { hooks: { streamWrite: redact } }),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        '*.authorization',
        '*.apiKey',
        '*.key',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({
        id: req.id,
        method: req.method,
        path: pathOnly(req.url),
      }),
      res: (res: { statusCode: number }) => ({ status: res.statusCode }),
    },
  };
}

/**
 * A hop count trusts that many proxies nearest the server (Fastify itself treats a bare number as
 * trusting none); a list trusts those addresses and ranges only.
 */
function trustProxyOption(
  trust: AppOptions['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_address: string, hop: number) => hop < trust;
  return trust === false ? false : [...trust];
}

export function buildApp(options: AppOptions, deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    logger: options.logger,
    bodyLimit: options.bodyLimitBytes,
    trustProxy: trustProxyOption(options.trustProxy),
    genReqId: options.newRequestId,
    // Tollgate writes one line per finished request itself, without the URL's query string.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    return503OnClosing: true,
    clientErrorHandler: clientErrorHandler(options.newRequestId),
  });
  app.decorateRequest('principal', null);
  app.decorateRequest('trace', null);
  if (options.metrics) installRequestMetrics(app, options.metrics);
  // A callback hook, not an async one: no promise per request for a header.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  if (options.accessLog)
    app.addHook('onResponse', async (request, reply) => {
      request.log.info(
        {
          path: pathOnly(request.url),
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
          keyId: request.principal?.keyId,
        },
        'request completed',
      );
    });
  installErrorHandling(app, options.bodyLimitBytes, options.unavailable);
  installJsonBody(app);
  app.get('/healthz', async () => ({ status: 'ok' }));
  if (options.ready) readinessRoute(app, options.ready);
  if (options.metricsEndpoint)
    metricsRoute(app, options.metricsEndpoint.exporter, options.metricsEndpoint.token);
  for (const path of options.basePaths.inference)
    app.register(inferenceApi, { prefix: path, path, ...deps, unavailable: options.unavailable });
  for (const path of options.basePaths.agents)
    app.register(agentsApi, { prefix: path, path, ...deps, unavailable: options.unavailable });
  if (options.dashboard) app.register(options.dashboard);
  else
    app.setNotFoundHandler((request, reply) => sendFailure(reply, unknownUrl(request.method, request.url)));
  return app;
}
