import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { Plan } from '../domain/plans.js';
import { dearestPromptPrice, type ModelPrice, multipliedPrice } from '../domain/pricing.js';
import type { PromptAllowance } from '../domain/prompt-tokens.js';
import type { Tier } from '../domain/tiers.js';
import type { UnboundedField } from '../domain/unbounded-fields.js';
import { type DatabaseConfig, DatabaseUrlError, databaseConfig } from './database-url.js';
import { type API_BASES, type ConfigFile, configFileSchema, parseListenAddress } from './schema.js';

/** A configuration problem, reported to the operator as one line that names the field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface Endpoint {
  readonly baseUrl: string;
  readonly apiKeyEnv: string | undefined;
  readonly weight: number;
}

export interface ProviderConfig {
  readonly id: string;
  readonly type: 'openai-compatible' | 'anthropic' | 'gemini';
  readonly baseUrl: string;
  readonly apiKeyEnv: string | undefined;
  /** Where requests go, shared out by weight: the provider's own base URL and key unless listed. */
  readonly endpoints: readonly Endpoint[];
  readonly maxConnections: number;
  readonly timeouts: {
    readonly connectMs: number;
    readonly firstByteMs: number;
    readonly idleMs: number;
    /** One attempt's whole time, from sending the request to the answer's last byte. */
    readonly totalMs: number;
  };
  readonly quirks: OpenAiQuirks;
  /** Tokens the provider adds to every prompt on its side (Anthropic's tool-use system prompt). */
  readonly promptOverheadTokens: number;
}

/** What an OpenAI-compatible server does differently; irrelevant to the other provider types. */
export interface OpenAiQuirks {
  /** Request fields Tollgate does not know: passed through, or dropped for a strict server. */
  readonly unknownFields: 'pass' | 'drop';
  /** Whether the server accepts stream_options.include_usage (old vLLM and llama.cpp do not). */
  readonly streamUsage: boolean;
  /** The one output-limit field the server reads; the other is never sent. */
  readonly maxTokensField: 'max_tokens' | 'max_completion_tokens';
}

export interface Deployment {
  readonly providerId: string;
  readonly upstreamModel: string;
  readonly price: ModelPrice;
}

export interface RoutingPolicy {
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly cooldownFailures: number;
  readonly cooldownMs: number;
}

export interface ModelConfig {
  readonly id: string;
  readonly aliases: readonly string[];
  /** The first deployment's provider and upstream name. */
  readonly providerId: string;
  readonly upstreamModel: string;
  /** In fallback order; the first is the model's own. */
  readonly deployments: readonly Deployment[];
  readonly price: ModelPrice;
  /** The dearest deployment's prices: what a hold must cover, whichever deployment serves. */
  readonly holdPrice: ModelPrice;
  readonly maxOutputTokens: number;
  readonly ownedBy: string;
  /** What media parts and the providers' own additions may cost (the dearest deployment's overhead). */
  readonly promptAllowance: PromptAllowance;
  /** Fields whose cost no hold bounds, forwarded anyway because the operator priced them in. */
  readonly allowFields: ReadonlySet<UnboundedField>;
}

export interface Config {
  readonly sourcePath: string;
  readonly brand: string;
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    /** A hop count or the proxies' addresses, as Fastify takes them; never `true`. */
    readonly trustProxy: TrustProxy;
    readonly logLevel: string;
    readonly accessLog: boolean;
    /**
     * Where users reach Tollgate: the one base for links, snippets and cookie decisions. Undefined
     * when not configured: then `http://127.0.0.1:<port>`, with the port the server listens on.
     */
    readonly publicUrl: string | undefined;
  };
  readonly dashboard: DashboardConfig;
  readonly mail: MailConfig;
  readonly database: DatabaseConfig;
  /** TOLLGATE_REDIS_URL (which may carry a password: never log it), else redis.url. */
  readonly redisUrl: string | undefined;
  readonly cluster: {
    readonly instances: number;
    /** TOLLGATE_INSTANCE_ID; a random one is made at start when unset. */
    readonly instanceId: string | undefined;
    /** cluster.instance_timeout_seconds, in ms. */
    readonly instanceTimeoutMs: number;
    /** cluster.lease_micros: the credit lease slice on PostgreSQL (0: no leases). */
    readonly leaseMicros: number;
  };
  /** GET /metrics on an address of its own; undefined: on the API's port, when a token is set. */
  readonly metrics: { readonly listen: { readonly host: string; readonly port: number } | undefined };
  /** Settings the file gives that no longer do anything: logged as warnings at start-up. */
  readonly deprecations: readonly string[];
  readonly routing: RoutingPolicy;
  readonly providers: readonly ProviderConfig[];
  readonly models: readonly ModelConfig[];
  readonly plans: readonly Plan[];
  /** Rate limits and model access; see domain/tiers.ts for which tier a request runs under. */
  readonly tiers: TierConfig;
  /** Every path each API base is served at, the base itself first. */
  readonly basePaths: Readonly<Record<ApiBasePath, readonly string[]>>;
}

export interface TierConfig {
  readonly tiers: readonly Tier[];
  /** The tier of an account without one of its own or from its plan; undefined: no limits. */
  readonly defaultTier: string | undefined;
  /** Plan id → the tier its live subscriptions give. */
  readonly planTiers: ReadonlyMap<string, string>;
}

export type ApiBasePath = (typeof API_BASES)[number];

export type TrustProxy = false | number | readonly string[];

export interface DashboardConfig {
  readonly enabled: boolean;
  readonly signup: 'open' | 'invite' | 'off';
  readonly idleTimeoutMs: number;
  readonly absoluteTimeoutMs: number;
  readonly passwordHashing: { readonly memoryKib: number; readonly iterations: number };
}

export interface MailConfig {
  /** Without it, links are shown once to whoever asked for them (the CLI's output, the inviter). */
  readonly smtpUrl: string | undefined;
  readonly from: string;
}

function usdToMicros(usd: number): number {
  return Math.round(usd * 1_000_000);
}

function toPlan(p: ConfigFile['plans'][number]): Plan {
  const name = p.name ?? p.id;
  if (p.kind === 'inference') {
    return { id: p.id, kind: 'inference', name, monthlyBudget: usdToMicros(p.monthly_budget_usd) };
  }
  return {
    id: p.id,
    kind: 'chat',
    name,
    agentLimits: p.agent_limits.map((l) => ({
      windowMs: Math.round(l.window_hours * 3_600_000),
      requests: l.requests,
      usd: l.usd === undefined ? undefined : usdToMicros(l.usd),
    })),
  };
}

function tiersOf(file: ConfigFile): TierConfig {
  const canonical = new Map(file.models.flatMap((m) => [m.id, ...m.aliases].map((name) => [name, m.id])));
  return {
    tiers: file.tiers.map((t) => ({
      id: t.id,
      limits: {
        requestsPerMinute: t.requests_per_minute,
        tokensPerMinute: t.tokens_per_minute,
        concurrentRequests: t.concurrent_requests,
      },
      models: t.models === '*' ? 'all' : new Set(t.models.map((name) => canonical.get(name) ?? name)),
    })),
    defaultTier: file.default_tier,
    planTiers: new Map(file.plans.flatMap((p) => (p.tier === undefined ? [] : [[p.id, p.tier] as const]))),
  };
}

function basePathsOf(file: ConfigFile): Config['basePaths'] {
  const of = (base: ApiBasePath) => [
    base,
    ...file.base_url_aliases.filter((a) => a.same_as === base).map((a) => a.path),
  ];
  return {
    '/v1': of('/v1'),
    '/api/v1/agents': of('/api/v1/agents'),
    '/api/chat-agent/v1': of('/api/chat-agent/v1'),
  };
}

function describeIssue(file: string, issue: z.core.$ZodIssue): string {
  const where = issue.path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
  return `${file}: ${where || '(top level)'}: ${issue.message}`;
}

function toMicrosPerMillion(usd: number): number {
  return Math.round(usd * 1_000_000);
}

/**
 * Anthropic adds a system prompt of its own when a request carries tools: at most 530 tokens in
 * its documentation (Claude 3 Opus). OpenAI-compatible servers render tools from the JSON that is
 * already counted, and Gemini documents no such prompt.
 */
const PROMPT_OVERHEAD_TOKENS: Record<ProviderConfig['type'], number> = {
  anthropic: 600,
  gemini: 0,
  'openai-compatible': 0,
};

/**
 * What each provider bills for cached prompt tokens, as a multiple of its input price, when the
 * model does not say. Anthropic publishes one rule for every model: a 5-minute cache write costs
 * 1.25 times the input price and a cache read 0.1 times
 * (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#pricing). OpenAI and Gemini
 * discount cached reads by a rate that differs from model to model, and an OpenAI-compatible server
 * may be anything, so they default to the input price: never less than the provider bills.
 */
const CACHE_MULTIPLIERS: Record<ProviderConfig['type'], { readonly read: number; readonly write: number }> = {
  anthropic: { read: 0.1, write: 1.25 },
  gemini: { read: 1, write: 1 },
  'openai-compatible': { read: 1, write: 1 },
};

type ConfiguredDeployment = NonNullable<ConfigFile['models'][number]['deployments']>[number];

/** A deployment's price: its own input and output prices or the model's, and its cache prices. */
function deploymentPrice(
  m: ConfigFile['models'][number],
  d: Partial<ConfiguredDeployment>,
  providerType: ProviderConfig['type'] | undefined,
): ModelPrice {
  const input = toMicrosPerMillion(d.input_usd_per_million ?? m.input_usd_per_million);
  const defaults = CACHE_MULTIPLIERS[providerType ?? 'openai-compatible'];
  const read = d.cache_read_multiplier ?? m.cache_read_multiplier ?? defaults.read;
  const write = d.cache_write_multiplier ?? m.cache_write_multiplier ?? defaults.write;
  return {
    inputMicrosPerMillion: input,
    outputMicrosPerMillion: toMicrosPerMillion(d.output_usd_per_million ?? m.output_usd_per_million),
    // Written only when they differ from the input price, which costOf uses in their absence.
    ...(read === 1 ? {} : { cacheReadMicrosPerMillion: multipliedPrice(input, read) }),
    ...(write === 1 ? {} : { cacheWriteMicrosPerMillion: multipliedPrice(input, write) }),
  };
}

function toModel(
  m: ConfigFile['models'][number],
  providerTypes: ReadonlyMap<string, ProviderConfig['type']>,
  overheadOf: ReadonlyMap<string, number>,
): ModelConfig {
  const listed: readonly Partial<ConfiguredDeployment>[] = m.deployments ?? [
    { provider: m.provider ?? '', upstream_model: m.upstream_model ?? '' },
  ];
  const deployments = listed.map((d) => ({
    providerId: d.provider ?? '',
    upstreamModel: d.upstream_model ?? '',
    price: deploymentPrice(m, d, providerTypes.get(d.provider ?? '')),
  }));
  const first = deployments[0]!;
  const price = deploymentPrice(m, {}, providerTypes.get(first.providerId));
  return {
    id: m.id,
    aliases: m.aliases,
    providerId: first.providerId,
    upstreamModel: first.upstreamModel,
    deployments,
    price,
    holdPrice: {
      // Every prompt token at the dearest rate it can be billed, cache writes included.
      inputMicrosPerMillion: Math.max(...deployments.map((d) => dearestPromptPrice(d.price))),
      outputMicrosPerMillion: Math.max(...deployments.map((d) => d.price.outputMicrosPerMillion)),
    },
    maxOutputTokens: m.max_output_tokens,
    ownedBy: m.owned_by ?? first.providerId,
    promptAllowance: {
      imageTokens: m.image_tokens,
      fileTokens: m.file_tokens,
      audioTokens: m.audio_tokens,
      // Any deployment may serve, so the hold takes the largest.
      overheadTokens: Math.max(...deployments.map((d) => overheadOf.get(d.providerId) ?? 0)),
    },
    allowFields: new Set(m.allow_fields),
  };
}

function deprecationsOf(file: ConfigFile): string[] {
  const found: string[] = [];
  if (file.billing.hold_ttl_seconds !== undefined) {
    found.push(
      'billing.hold_ttl_seconds is ignored and can be removed: a hold now lasts exactly as long as its request, and providers[].timeouts.total_ms bounds how long a request may run',
    );
  }
  return found;
}

/** TOLLGATE_METRICS_LISTEN, else metrics.listen: instances sharing one file on one host need their own. */
function metricsListen(file: ConfigFile, env: NodeJS.ProcessEnv): Config['metrics']['listen'] {
  const text = env.TOLLGATE_METRICS_LISTEN || file.metrics.listen;
  if (text === undefined) return undefined;
  const address = parseListenAddress(text);
  if (!address)
    throw new ConfigError(
      'TOLLGATE_METRICS_LISTEN: expected host:port, such as 127.0.0.1:9464 or [::1]:9464',
    );
  return address;
}

function fromFile(file: ConfigFile, sourcePath: string, env: NodeJS.ProcessEnv): Config {
  const port = env.PORT === undefined ? file.server.port : Number(env.PORT);
  if (
    (env.PORT !== undefined && !/^\d+$/.test(env.PORT)) ||
    !Number.isInteger(port) ||
    port < 0 ||
    port > 65_535
  ) {
    throw new ConfigError(`PORT: expected a whole number from 0 to 65535, got "${env.PORT}"`);
  }
  let database: DatabaseConfig;
  try {
    database = databaseConfig(
      env.TOLLGATE_DATABASE_URL,
      file.database.url,
      file.database.pool_size,
      `${sourcePath}: database.url`,
    );
  } catch (error) {
    throw error instanceof DatabaseUrlError ? new ConfigError(error.message) : error;
  }
  const redisUrl = env.TOLLGATE_REDIS_URL || file.redis.url;
  if (env.TOLLGATE_REDIS_URL && !/^rediss?:\/\/./.test(env.TOLLGATE_REDIS_URL))
    throw new ConfigError('TOLLGATE_REDIS_URL: expected redis://host:6379 or rediss://host:6380');
  if (file.cluster.instances > 1 && !redisUrl)
    throw new ConfigError(
      `cluster.instances is ${file.cluster.instances}, but no Redis is configured: set redis.url (or TOLLGATE_REDIS_URL), which instances need to share revocations and rate limits, or set cluster.instances to 1`,
    );
  const instanceId = env.TOLLGATE_INSTANCE_ID || undefined;
  if (instanceId !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(instanceId))
    throw new ConfigError('TOLLGATE_INSTANCE_ID: expected 1 to 64 letters, digits, ".", "_" or "-"');
  const overheadOf = new Map(
    file.providers.map((p) => [p.id, p.prompt_overhead_tokens ?? PROMPT_OVERHEAD_TOKENS[p.type]]),
  );
  const providerTypes = new Map(file.providers.map((p) => [p.id, p.type]));
  return {
    sourcePath,
    brand: file.brand,
    server: {
      host: env.HOST ?? file.server.host,
      port,
      bodyLimitBytes: file.server.body_limit_bytes,
      trustProxy: file.server.trust_proxy,
      logLevel: env.TOLLGATE_LOG_LEVEL ?? file.server.log_level,
      accessLog: file.server.access_log,
      publicUrl: file.server.public_url,
    },
    dashboard: {
      enabled: file.dashboard.enabled,
      signup: file.dashboard.signup,
      idleTimeoutMs: file.dashboard.session.idle_minutes * 60_000,
      absoluteTimeoutMs: file.dashboard.session.absolute_hours * 3_600_000,
      passwordHashing: {
        memoryKib: file.dashboard.password_hashing.memory_kib,
        iterations: file.dashboard.password_hashing.iterations,
      },
    },
    mail: { smtpUrl: file.mail.smtp_url, from: file.mail.from },
    database,
    redisUrl,
    cluster: {
      instances: file.cluster.instances,
      instanceId,
      instanceTimeoutMs: file.cluster.instance_timeout_seconds * 1_000,
      leaseMicros: file.cluster.lease_micros,
    },
    metrics: { listen: metricsListen(file, env) },
    deprecations: deprecationsOf(file),
    providers: file.providers.map((p) => ({
      id: p.id,
      type: p.type,
      baseUrl: p.base_url.replace(/\/+$/, ''),
      apiKeyEnv: p.api_key_env,
      endpoints: (p.endpoints ?? [{ weight: 1 }]).map((e) => ({
        baseUrl: (e.base_url ?? p.base_url).replace(/\/+$/, ''),
        apiKeyEnv: e.api_key_env ?? p.api_key_env,
        weight: e.weight,
      })),
      maxConnections: p.max_connections,
      timeouts: {
        connectMs: p.timeouts.connect_ms,
        firstByteMs: p.timeouts.first_byte_ms,
        idleMs: p.timeouts.idle_ms,
        totalMs: p.timeouts.total_ms,
      },
      quirks: {
        unknownFields: p.unknown_fields,
        streamUsage: p.stream_usage,
        maxTokensField: p.max_tokens_field,
      },
      promptOverheadTokens: overheadOf.get(p.id) ?? 0,
    })),
    routing: {
      maxAttempts: file.routing.max_attempts,
      retryBaseMs: file.routing.retry_base_ms,
      retryMaxMs: file.routing.retry_max_ms,
      cooldownFailures: file.routing.cooldown_failures,
      cooldownMs: file.routing.cooldown_seconds * 1000,
    },
    models: file.models.map((m) => toModel(m, providerTypes, overheadOf)),
    plans: file.plans.map(toPlan),
    tiers: tiersOf(file),
    basePaths: basePathsOf(file),
  };
}

export function parseConfig(text: string, sourcePath: string, env: NodeJS.ProcessEnv): Config {
  const lines = new LineCounter();
  const document = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  const yamlError = document.errors[0];
  if (yamlError) {
    const line = lines.linePos(yamlError.pos[0]).line;
    throw new ConfigError(
      `${sourcePath}${line ? `:${line}` : ''}: invalid YAML: ${yamlError.message.split('\n')[0]}`,
    );
  }
  const parsed = configFileSchema.safeParse(document.toJS());
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new ConfigError(first ? describeIssue(sourcePath, first) : `${sourcePath}: invalid configuration`);
  }
  return fromFile(parsed.data, sourcePath, env);
}

/**
 * Which file to read: --config, then TOLLGATE_CONFIG, then ./tollgate.yaml, then the shipped
 * example, so that `npm start` on a fresh clone serves something an operator can then edit.
 */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const chosen = flag ?? env.TOLLGATE_CONFIG;
  if (chosen) return path.resolve(cwd, chosen);
  const local = path.resolve(cwd, 'tollgate.yaml');
  return existsSync(local) ? local : path.resolve(cwd, 'tollgate.example.yaml');
}

export function loadConfig(configPath: string, env: NodeJS.ProcessEnv): Config {
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    throw new ConfigError(`${configPath}: cannot read the configuration file (${reason})`);
  }
  return parseConfig(text, configPath, env);
}
