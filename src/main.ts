import type { FastifyInstance } from 'fastify';
import { type DestinationStream, pino } from 'pino';
import { openClusterLinks } from './cluster/cluster-links.js';
import { databaseSecrets } from './config/database-url.js';
import type { Config } from './config/load-config.js';
import { metricsToken, requireKeySecret, requireProviderKeys } from './config/secrets.js';
import { HmacKeyHasher } from './crypto/hmac-key-hasher.js';
import { cryptoRandom, newId, systemClock } from './crypto/system.js';
import type { DashboardServices } from './dashboard-services.js';
import { csrfKey, dashboardServices, localPublicUrl, sessionService } from './dashboard-services.js';
import { secretRedactor } from './domain/redact-secrets.js';
import { buildApp, loggerOptions } from './http/app.js';
import { type MetricsExporter, startMetricsServer } from './http/operations.js';
import { dashboardPlugin } from './http/routes/dashboard/index.js';
import { cookiePolicy } from './http/routes/dashboard/session.js';
import { defaultWebRoot } from './http/routes/dashboard/web-app.js';
import { UnavailableAnswers } from './http/unavailable-answer.js';
import { PrometheusMetrics } from './metrics/prometheus-metrics.js';
import { blockListAllowlists } from './net/ip-allowlist.js';
import type { Change } from './ports/change-feed.js';
import type { Ledger } from './ports/ledger.js';
import type { Clock } from './ports/system.js';
import type { Upstreams } from './ports/upstream.js';
import { leaseLifetimeMs } from './rate-limits/lease-lifetime.js';
import { rateLimiterFor } from './rate-limits/rate-limiter-for.js';
import { type RequestPathStores, requestPathStores } from './request-path-stores.js';
import { AccountService } from './services/accounts.js';
import { ApiKeyService } from './services/api-keys.js';
import { Authenticator } from './services/authenticate.js';
import { BalanceReader } from './services/billing/balances.js';
import { Billing } from './services/billing/billing.js';
import { ClosingRetries } from './services/billing/closing-retries.js';
import { PlanCatalogue } from './services/billing/plan-catalogue.js';
import { ModelCatalogue } from './services/catalogue.js';
import { ChangeAnnouncer } from './services/change-announcer.js';
import { chatEndpoint } from './services/chat/chat-endpoint.js';
import { completionsEndpoint } from './services/chat/completions-endpoint.js';
import { ChatCompletions } from './services/chat/proxy-chat.js';
import { DeploymentHealth } from './services/chat/routing.js';
import { Embeddings } from './services/embeddings/embeddings.js';
import { KeyUseRecorder } from './services/key-use-recorder.js';
import { RequestLimits } from './services/limits/request-limits.js';
import { TierAssignment } from './services/limits/tier-assignment.js';
import { TierCatalogue } from './services/limits/tier-catalogue.js';
import { SubscriptionService } from './services/subscriptions.js';
import { runShutdownSteps } from './shutdown-steps.js';
import { KyselyAccountStore } from './store/kysely-accounts.js';
import { KyselyAuditLog } from './store/kysely-audit.js';
import { KyselyKeySpend, KyselyKeyStore } from './store/kysely-keys.js';
import { KyselySubscriptionStore } from './store/kysely-subscriptions.js';
import { openDatabase } from './store/open-database.js';
import { commitInDoubt, databaseUnavailable } from './store/store-unavailable.js';
import { UndiciUpstreams } from './upstream/undici-upstreams.js';

export interface Tollgate {
  readonly app: FastifyInstance;
  /** TOLLGATE_INSTANCE_ID, or one made at start: tells this instance's logs and messages apart. */
  readonly instanceId: string;
  /** The services behind the CLI, for operators embedding Tollgate and for tests that seed accounts. */
  readonly services: {
    readonly accounts: AccountService;
    readonly keys: ApiKeyService;
    readonly subscriptions: SubscriptionService;
    readonly ledger: Ledger;
    /** What GET /metrics exports (settlements above their hold, among the rest). */
    readonly metrics: PrometheusMetrics;
    readonly dashboard: DashboardServices;
    readonly tiers: TierAssignment;
  };
  /** Where GET /metrics is served on its own address (metrics.listen), once listening. */
  metricsUrl(): string | undefined;
  /** server.public_url, or the address the server listens on when none is configured. */
  publicUrl(): string;
  /** Serves until close(); returns the address it listens on. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface TollgateOverrides {
  readonly clock?: Clock;
  readonly upstreams?: Upstreams;
  readonly logLevel?: string;
  readonly accessLog?: boolean;
  /** Where log lines go instead of stdout. */
  readonly logStream?: DestinationStream;
  /** The built web app to serve (default: dist/web of this package). */
  readonly webRoot?: string;
}

const SHUTDOWN_GRACE_MS = 10_000;
/** Expired dashboard sessions and rate-limit windows are deleted this often. */
const DASHBOARD_SWEEP_INTERVAL_MS = 60_000;
/**
 * While shutting down, how often connections that went idle are closed. Node closes the idle ones
 * when the server stops listening, but a connection whose request was in flight then stays open as
 * a keep-alive connection once answered, and would hold the exit until the grace ran out. Polled
 * rather than watched per request: it costs nothing until shutdown.
 */
const IDLE_REAP_INTERVAL_MS = 50;

/** The composition root: configuration → stores → services → HTTP app. */
export async function createTollgate(
  config: Config,
  env: NodeJS.ProcessEnv,
  overrides: TollgateOverrides = {},
): Promise<Tollgate> {
  const keySecret = requireKeySecret(env);
  const providerKeys = requireProviderKeys(config, env);
  const scrapeToken = metricsToken(env);
  const metrics = new PrometheusMetrics();
  const clock = overrides.clock ?? systemClock;
  const database = await openDatabase(config.database);
  const id = (prefix: string) => newId(prefix);
  const instanceId = config.cluster.instanceId ?? newId('inst');
  let stores: RequestPathStores;
  try {
    stores = requestPathStores(
      config.database,
      database,
      id,
      { error: (details, message) => app.log.error(details, message) },
      {
        instanceId,
        timings: { timeoutMs: config.cluster.instanceTimeoutMs, longestRequestMs: leaseLifetimeMs(config) },
        leases: { micros: config.cluster.leaseMicros, instances: config.cluster.instances },
        metrics,
      },
    );
    await stores.start();
  } catch (error) {
    await database.close();
    throw error;
  }
  const { keyActivity, ledger } = stores;
  keyActivity.onLookup = (hit) => metrics.cacheLookup('keys', hit);
  const accountStore = new KyselyAccountStore(database.db);
  const keyStore = new KyselyKeyStore(database.db);
  const undiciUpstreams = overrides.upstreams
    ? undefined
    : new UndiciUpstreams(config.providers, providerKeys);
  const upstreams = overrides.upstreams ?? undiciUpstreams!;
  const catalogue = new ModelCatalogue(config.models);
  const redact = secretRedactor([
    ...providerKeys.values(),
    keySecret,
    ...databaseSecrets(config.database, env),
  ]);
  const caller = {
    upstreams,
    health: new DeploymentHealth(config.routing, clock, (provider) => metrics.providerCooldown(provider)),
    policy: config.routing,
    clock,
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    redact,
    metrics,
  };
  const hasher = new HmacKeyHasher(keySecret);
  const plans = new PlanCatalogue(config.plans);
  // Opened with no await before the app exists, so that its first log line finds `app` assigned.
  const cluster = openClusterLinks({
    redisUrl: config.redisUrl,
    postgresUrl: config.database.kind === 'postgres' ? config.database.url : undefined,
    postgresPool: database.kind === 'postgres' ? database.pg : undefined,
    instanceId,
    role: 'server',
    log: {
      info: (details, message) => app.log.info(details, message),
      warn: (details, message) => app.log.warn(details, message),
      error: (details, message) => app.log.error(details, message),
    },
    metrics,
  });
  // A change made through the services, here or in another process: the caches drop what it names.
  const changes = new ChangeAnnouncer(cluster.feed, [
    keyActivity,
    {
      forgetChange: (change) => {
        if (change.scope !== 'key') ledger.forgetBalances();
      },
    },
  ]);
  const announce = (change: Change) => changes.announce(change);
  const sessions = sessionService(database.db, config, clock);
  const accounts = new AccountService(accountStore, ledger, clock, id, announce, (accountId) =>
    sessions.endAccountMembers(accountId),
  );
  const auditLog = new KyselyAuditLog(database.db, () => clock.now(), id);
  const subscriptions = new SubscriptionService(
    plans,
    accountStore,
    new KyselySubscriptionStore(database.db, database.kind),
    clock,
    id,
    announce,
  );
  const keys = new ApiKeyService(
    config.brand,
    accountStore,
    keyStore,
    hasher,
    cryptoRandom,
    clock,
    id,
    blockListAllowlists,
    auditLog,
    announce,
  );
  let listeningUrl: string | undefined;
  const publicUrl = () => config.server.publicUrl ?? listeningUrl ?? localPublicUrl(config);
  const dashboard = dashboardServices({
    db: database.db,
    config,
    env,
    clock,
    newId: id,
    accounts,
    accountStore,
    keys,
    auditLog,
    spend: new KyselyKeySpend(database.db),
    sessions,
    publicUrl,
    onMailError: (error) => app.log.error({ err: error }, 'could not send mail'),
  });

  // Asynchronous stdout: while one write is in flight, later lines are coalesced into the next,
  // so a busy server makes one write for many log lines instead of one write per request.
  const stdoutLog = overrides.logStream ? undefined : pino.destination({ dest: 1, sync: false });
  const logStream = overrides.logStream ?? stdoutLog;
  const warn = {
    warn: (details: Record<string, unknown>, message: string) => app.log.warn(details, message),
  };
  const ready = () => database.ready();
  const scrapeExporter: MetricsExporter = {
    contentType: metrics.contentType,
    exposition: async () => {
      // Checked at each scrape: the gauge is never older than Prometheus' own view.
      metrics.dependencyUp('database', (await ready()).ok);
      return metrics.exposition();
    },
  };
  const closings = new ClosingRetries({
    classify: databaseUnavailable,
    inDoubt: commitInDoubt,
    log: {
      warn: (details, message) => app.log.warn(details, message),
      error: (details, message) => app.log.error(details, message),
    },
    metrics,
  });
  const billing = new Billing(ledger, plans, clock, id, { log: warn, metrics }, closings);
  const tierCatalogue = new TierCatalogue(config.tiers);
  const limits = new RequestLimits(
    rateLimiterFor({
      config,
      redis: cluster.redis,
      clock,
      log: {
        info: (details, message) => app.log.info(details, message),
        warn: (details, message) => app.log.warn(details, message),
      },
    }),
    id,
  );
  // One for the API and the dashboard: an outage is logged once, whichever meets it first.
  const unavailable = new UnavailableAnswers(databaseUnavailable, metrics);
  const uses = new KeyUseRecorder(keyActivity, (error) =>
    app.log.error({ err: error }, 'could not record key use'),
  );
  const app = buildApp(
    {
      bodyLimitBytes: config.server.bodyLimitBytes,
      trustProxy: config.server.trustProxy,
      logger: loggerOptions(overrides.logLevel ?? config.server.logLevel, logStream, redact, instanceId),
      newRequestId: () => newId('req', cryptoRandom),
      accessLog: overrides.accessLog ?? config.server.accessLog,
      basePaths: {
        inference: config.basePaths['/v1'],
        agents: [...config.basePaths['/api/v1/agents'], ...config.basePaths['/api/chat-agent/v1']],
      },
      ...(config.dashboard.enabled
        ? {
            dashboard: dashboardPlugin({
              ...dashboard,
              cookies: cookiePolicy((config.server.publicUrl ?? '').startsWith('https:')),
              clock,
              publicUrl,
              csrfKey: csrfKey(keySecret),
              webRoot: overrides.webRoot ?? defaultWebRoot(),
              apiPaths: Object.values(config.basePaths).flat(),
              unavailable,
            }),
          }
        : {}),
      metrics,
      ready,
      unavailable,
      // On its own address the endpoint is served there only; otherwise here, behind the token.
      ...(scrapeToken && !config.metrics.listen
        ? { metricsEndpoint: { exporter: scrapeExporter, token: scrapeToken } }
        : {}),
    },
    {
      authenticator: new Authenticator(config.brand, keyActivity, hasher, clock, tierCatalogue),
      uses,
      catalogue,
      embeddings: new Embeddings(catalogue, billing, caller, clock, warn, limits),
      chat: new ChatCompletions(chatEndpoint, catalogue, billing, caller, clock, warn, limits),
      completions: new ChatCompletions(completionsEndpoint, catalogue, billing, caller, clock, warn, limits),
      limits,
      balances: new BalanceReader(ledger, plans, clock),
      startedAt: clock.now(),
    },
  );
  uses.start();
  for (const deprecation of config.deprecations) app.log.warn({ config: config.sourcePath }, deprecation);
  if (stores.journal?.replayed)
    app.log.warn(
      { batches: stores.journal.replayed },
      'committed settlements the last run had only journaled',
    );
  if (stores.journal?.refused)
    app.log.error(
      { batches: stores.journal.refused, file: stores.journal.refusedFile },
      'the database refused settlements the last run had journaled: set aside in the refused settlements file',
    );
  return wire(
    app,
    config,
    instanceId,
    {
      accounts,
      keys,
      subscriptions,
      ledger,
      metrics,
      dashboard,
      tiers: new TierAssignment(tierCatalogue, accountStore, announce),
    },
    {
      // Expired sessions and finished rate-limit windows are refused anyway; this only frees the rows.
      sweepDashboard: async () => {
        await sessions.sweep();
        await dashboard.counters.deleteExpired(clock.now());
      },
      publicUrl,
      ...(config.metrics.listen
        ? { startMetrics: () => startMetricsServer(config.metrics.listen!, scrapeExporter, scrapeToken) }
        : {}),
      // The loopback address with the port actually bound (PORT=0 picks one), whatever the host.
      listening: (address) => {
        listeningUrl = `http://127.0.0.1:${new URL(address).port}`;
      },
      close: () =>
        runShutdownSteps(
          [
            ['dashboard', () => dashboard.close()],
            ['key activity', () => uses.stop()],
            ['change feed', () => cluster.close()],
            ['closings kept for retry', () => closings.close()],
            ['ledger', () => ledger.close()],
            ['upstream connections', () => undiciUpstreams?.close()],
            ['database', () => database.close()],
            ['stores', () => stores.release()],
            ['log', () => stdoutLog?.flushSync()],
          ],
          (error, step) =>
            app.log.error(
              { reason: error instanceof Error ? error.message : String(error), step },
              'shutdown step failed',
            ),
        ),
    },
  );
}

function wire(
  app: FastifyInstance,
  config: Config,
  instanceId: string,
  services: Tollgate['services'],
  parts: {
    sweepDashboard: () => Promise<void>;
    publicUrl: () => string;
    /** GET /metrics on its own address (metrics.listen), started with the API and closed after it. */
    startMetrics?: () => Promise<{ readonly url: string; close(): Promise<void> }>;
    listening: (address: string) => void;
    close: () => Promise<void>;
  },
): Tollgate {
  let metricsServer: { readonly url: string; close(): Promise<void> } | undefined;
  const sweeper = setInterval(() => {
    parts.sweepDashboard().catch((error: unknown) => app.log.error({ err: error }, 'session sweep failed'));
  }, DASHBOARD_SWEEP_INTERVAL_MS);
  sweeper.unref();
  return {
    app,
    instanceId,
    services,
    publicUrl: parts.publicUrl,
    metricsUrl: () => metricsServer?.url,
    async listen() {
      const address = await app.listen({ host: config.server.host, port: config.server.port });
      parts.listening(address);
      metricsServer = await parts.startMetrics?.();
      return address;
    },
    async close() {
      clearInterval(sweeper);
      // Requests in flight get a grace period to finish; connections still open after it are cut.
      const force = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      force.unref();
      const reap = setInterval(() => app.server.closeIdleConnections(), IDLE_REAP_INTERVAL_MS);
      reap.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(force);
        clearInterval(reap);
      }
      await metricsServer?.close();
      await parts.close();
    },
  };
}
