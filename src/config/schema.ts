import { isIP } from 'node:net';
import { z } from 'zod';
import { FILE_TOKENS_CEILING, IMAGE_TOKENS_CEILING } from '../domain/prompt-tokens.js';
import { UNBOUNDED_FIELDS } from '../domain/unbounded-fields.js';

/**
 * The YAML configuration file. Keys are snake_case as operators write them; unknown keys are
 * refused so that a typo never silently falls back to a default.
 */
const usdPerMillion = z
  .union([z.number(), z.string().regex(/^\d+(\.\d+)?$/, 'expected a decimal number such as 0.27')])
  .transform(Number)
  .pipe(z.number().nonnegative().max(1_000_000));

/**
 * A multiple of the input price, such as 1.25 for Anthropic's 5-minute cache writes. At most four
 * decimals, so that the cache price it gives is computed exactly (see load-config.ts).
 */
const priceMultiplier = z
  .union([z.number(), z.string().regex(/^\d+(\.\d+)?$/, 'expected a decimal number such as 1.25')])
  .transform(Number)
  .pipe(
    z
      .number()
      .nonnegative()
      .max(100)
      .refine((m) => Math.abs(m * 10_000 - Math.round(m * 10_000)) < 1e-6, {
        message: 'at most 4 decimal places',
      }),
  );

const timeouts = z.strictObject({
  connect_ms: z.number().int().positive().default(5_000),
  first_byte_ms: z.number().int().positive().default(120_000),
  idle_ms: z.number().int().positive().default(120_000),
  // From sending the request to the last byte of the answer: idle_ms resets on every chunk, so only
  // this bounds a request that keeps trickling. OpenAI's own SDKs give up after 10 minutes.
  total_ms: z.number().int().positive().default(600_000),
});

const provider = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected lowercase letters, digits, - or _'),
  type: z.enum(['openai-compatible', 'anthropic', 'gemini'], {
    error: 'expected openai-compatible, anthropic or gemini',
  }),
  base_url: z.url({
    protocol: /^https?$/,
    error: 'expected an http(s) URL such as https://api.openai.com/v1',
  }),
  api_key_env: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the NAME of an environment variable, such as OPENAI_API_KEY')
    .optional(),
  max_connections: z.number().int().min(1).max(4096).default(256),
  timeouts: timeouts.prefault({}),
  // Several keys or base URLs of one provider, shared out by weight; each defaults to the provider's own.
  endpoints: z
    .array(
      z.strictObject({
        base_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
        api_key_env: z
          .string()
          .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected the NAME of an environment variable')
          .optional(),
        weight: z.number().int().min(1).max(1_000).default(1),
      }),
    )
    .min(1)
    .optional(),
  // Quirks of an OpenAI-compatible server, declared rather than guessed.
  unknown_fields: z.enum(['pass', 'drop']).default('pass'),
  stream_usage: z.boolean().default(true),
  // The one output-limit field the server reads: Tollgate writes the held limit there, and only there.
  max_tokens_field: z.enum(['max_tokens', 'max_completion_tokens']).default('max_tokens'),
  // Tokens the provider adds to every prompt on its side; the default depends on the type.
  prompt_overhead_tokens: z.number().int().min(0).max(1_000_000).optional(),
});

const deployment = z.strictObject({
  provider: z.string(),
  upstream_model: z.string().min(1),
  // A deployment may cost the operator a different price; the model's prices apply otherwise.
  input_usd_per_million: usdPerMillion.optional(),
  output_usd_per_million: usdPerMillion.optional(),
  cache_read_multiplier: priceMultiplier.optional(),
  cache_write_multiplier: priceMultiplier.optional(),
});

const model = z.strictObject({
  id: z.string().min(1).max(200),
  aliases: z.array(z.string().min(1).max(200)).default([]),
  // Either one provider and upstream model, or an ordered list of deployments to fall back through.
  provider: z.string().optional(),
  upstream_model: z.string().min(1).optional(),
  deployments: z.array(deployment).min(1).optional(),
  input_usd_per_million: usdPerMillion,
  output_usd_per_million: usdPerMillion,
  // Prompt tokens the provider reports as read from or written to its cache, priced as a multiple
  // of the input price. The defaults follow the provider type (see load-config.ts).
  cache_read_multiplier: priceMultiplier.optional(),
  cache_write_multiplier: priceMultiplier.optional(),
  max_output_tokens: z.number().int().positive().max(10_000_000),
  owned_by: z.string().optional(),
  // What one media part of a prompt may cost, whatever its size in the request.
  image_tokens: z.number().int().min(0).max(10_000_000).default(IMAGE_TOKENS_CEILING),
  file_tokens: z.number().int().min(0).max(10_000_000).default(FILE_TOKENS_CEILING),
  audio_tokens: z.number().int().min(0).max(10_000_000).optional(),
  // Fields refused by default because no hold can bound their cost; listed here, they are forwarded.
  allow_fields: z
    .array(z.enum(UNBOUNDED_FIELDS, { error: `expected one of ${UNBOUNDED_FIELDS.join(', ')}` }))
    .default([]),
});

/** A whole number of micro-USD: more decimals would round a budget silently, even to $0. */
const usdAmount = z
  .union([z.number(), z.string().regex(/^\d+(\.\d{1,6})?$/, 'expected a decimal USD amount such as 20.00')], {
    error: 'expected a USD amount such as 20.00',
  })
  .transform(Number)
  .pipe(
    z
      .number()
      .positive()
      .max(1_000_000)
      .refine((usd) => Math.abs(usd * 1_000_000 - Math.round(usd * 1_000_000)) < 1e-6, {
        message: 'at most 6 decimal places (whole micro-USD)',
      }),
  );

const agentLimit = z
  .strictObject({
    // At least a minute: a shorter window would forget spend before the next request arrives.
    window_hours: z
      .number({ error: 'expected a number of hours such as 5 or 168' })
      .min(1 / 60, 'expected at least one minute (0.017 hours)')
      .max(24 * 366),
    requests: z.number().int().positive().optional(),
    usd: usdAmount.optional(),
  })
  .refine((l) => l.requests !== undefined || l.usd !== undefined, {
    message: 'give requests, usd or both',
  });

const plan = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected lowercase letters, digits, - or _'),
      kind: z.literal('inference'),
      name: z.string().min(1).max(100).optional(),
      monthly_budget_usd: usdAmount,
      tier: z.string().optional(),
    }),
    z.strictObject({
      id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected lowercase letters, digits, - or _'),
      kind: z.literal('chat'),
      name: z.string().min(1).max(100).optional(),
      agent_limits: z.array(agentLimit).min(1),
      tier: z.string().optional(),
    }),
  ],
  { error: 'expected kind: inference or kind: chat' },
);

const perMinuteLimit = z.number().int().min(1).max(1_000_000_000).optional();

/** A tier: how fast its accounts may call and which models they may use. A limit left out is not enforced. */
const tier = z.strictObject({
  // "none" is what `accounts set-tier <account> none` means: no tier of the account's own.
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected lowercase letters, digits, - or _')
    .refine((id) => id !== 'none', '"none" is reserved: it clears an account\'s tier'),
  requests_per_minute: perMinuteLimit,
  tokens_per_minute: perMinuteLimit,
  concurrent_requests: z.number().int().min(1).max(1_000_000).optional(),
  // Model ids or aliases, or '*' for every model.
  models: z
    .union([z.literal('*'), z.array(z.string().min(1)).min(1)], {
      error: "expected a list of model ids, or '*' for every model",
    })
    .default('*'),
});

/** The API bases Tollgate serves; an alias serves the same API under another path. */
export const API_BASES = ['/v1', '/api/v1/agents', '/api/chat-agent/v1'] as const;

const baseUrlAlias = z.strictObject({
  path: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'expected a path such as /openai/v1, without a trailing slash'),
  same_as: z.enum(API_BASES, { error: `expected one of ${API_BASES.join(', ')}` }),
});

/**
 * The first path segments the dashboard serves (its JSON API, its assets and its client-side routes):
 * an API alias there would shadow a dashboard page, or the reverse.
 */
export const DASHBOARD_PATHS = [
  '/dashboard',
  '/assets',
  '/login',
  '/signup',
  '/verify',
  '/invite',
  '/reset',
  '/keys',
  '/members',
  '/audit',
  '/settings',
  '/healthz',
  '/readyz',
  '/metrics',
] as const;

/** An address or a CIDR range, IPv4 or IPv6, as proxy-addr and net.BlockList take them. */
export function isAddressOrCidr(text: string): boolean {
  const [address = '', prefix, extra] = text.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

const TRUST_PROXY_FORMS =
  'give the number of proxies in front of Tollgate (for example 1) or their addresses or CIDR ranges (for example [10.0.0.0/8]), or false';

const trustProxy = z
  .union([z.boolean(), z.number(), z.array(z.string())], {
    error: `expected a number or a list; ${TRUST_PROXY_FORMS}`,
  })
  .superRefine((value, ctx) => {
    if (value === true) {
      ctx.addIssue({
        code: 'custom',
        message: `true is refused: it would let any client choose its own address through X-Forwarded-For, and IP allow-lists would mean nothing; ${TRUST_PROXY_FORMS}`,
      });
    } else if (typeof value === 'number' && (!Number.isInteger(value) || value < 1 || value > 100)) {
      ctx.addIssue({ code: 'custom', message: 'expected a whole number of proxies from 1 to 100' });
    } else if (Array.isArray(value)) {
      if (value.length === 0)
        ctx.addIssue({ code: 'custom', message: `an empty list; ${TRUST_PROXY_FORMS}` });
      value.forEach((entry, i) => {
        if (!isAddressOrCidr(entry))
          ctx.addIssue({
            code: 'custom',
            path: [i],
            message: `"${entry}" is not an IP address or CIDR range such as 10.0.0.0/8`,
          });
      });
    }
  })
  .transform((value) => (value === true ? false : value));

const publicUrl = z
  .url({
    protocol: /^https?$/,
    error: 'expected the http(s) URL users reach Tollgate at, such as https://llm.example.com',
  })
  .refine((url) => {
    const parsed = new URL(url);
    return parsed.pathname === '/' && !parsed.search && !parsed.hash && !parsed.username && !parsed.password;
  }, 'expected an origin only, such as https://llm.example.com (no path, query or credentials)')
  .transform((url) => new URL(url).origin);

const dashboard = z
  .strictObject({
    enabled: z.boolean().default(true),
    // open: anyone signs up and gets an account; invite: only invited emails; off: operators create users.
    signup: z.enum(['open', 'invite', 'off'], { error: 'expected open, invite or off' }).default('invite'),
    session: z
      .strictObject({
        idle_minutes: z
          .number()
          .int()
          .min(1)
          .max(7 * 24 * 60)
          .default(30),
        absolute_hours: z
          .number()
          .int()
          .min(1)
          .max(30 * 24)
          .default(12),
      })
      .prefault({}),
    // argon2id; OWASP's parameters by default (19 MiB, 2 passes). Lower only for tests.
    password_hashing: z
      .strictObject({
        memory_kib: z
          .number()
          .int()
          .min(8)
          .max(4 * 1024 * 1024)
          .default(19_456),
        iterations: z.number().int().min(1).max(100).default(2),
      })
      .prefault({}),
  })
  .prefault({});

/** host:port, with an IPv6 host in brackets ([::1]:9464). */
const LISTEN_ADDRESS = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

export function parseListenAddress(text: string): { host: string; port: number } | undefined {
  const match = LISTEN_ADDRESS.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65_535) return undefined;
  return { host: match[1] ?? match[2] ?? '', port };
}

const metrics = z
  .strictObject({
    // GET /metrics on an address of its own (then not on the API's port), such as 127.0.0.1:9464.
    listen: z
      .string()
      .refine((text) => parseListenAddress(text) !== undefined, {
        message: 'expected host:port, such as 127.0.0.1:9464 or [::1]:9464',
      })
      .optional(),
  })
  .prefault({});

const mail = z
  .strictObject({
    smtp_url: z
      .url({ protocol: /^smtps?$/, error: 'expected smtp://user@host:587 or smtps://user@host:465' })
      .refine(
        (url) => new URL(url).password === '',
        'the SMTP password never goes in this file: set TOLLGATE_SMTP_PASSWORD in the environment',
      )
      .optional(),
    from: z.string().min(3).max(200).default('Tollgate <no-reply@localhost>'),
  })
  .prefault({});

export const configFileSchema = z
  .strictObject({
    brand: z
      .string()
      .regex(/^[a-z][a-z0-9]{1,31}$/, 'expected 2-32 lowercase letters or digits, starting with a letter'),
    server: z
      .strictObject({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(8080),
        body_limit_bytes: z
          .number()
          .int()
          .min(1_024)
          .default(4 * 1024 * 1024),
        trust_proxy: trustProxy.default(false),
        public_url: publicUrl.optional(),
        log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        access_log: z.boolean().default(false),
      })
      .prefault({}),
    database: z
      .strictObject({
        url: z
          .string()
          .regex(
            /^(sqlite:.+|postgres(ql)?:\/\/.+)/,
            'expected sqlite:<path> or postgres://user@host/database, for example sqlite:./data/tollgate.db',
          )
          .default('sqlite:./data/tollgate.db'),
        // PostgreSQL connections per instance; several instances share the server's max_connections.
        pool_size: z.number().int().min(1).max(1_000).default(10),
      })
      .prefault({}),
    redis: z
      .strictObject({
        url: z
          .url({ protocol: /^rediss?$/, error: 'expected redis://host:6379 or rediss://host:6380' })
          .refine(
            (url) => new URL(url).password === '',
            'the Redis password never goes in this file: set TOLLGATE_REDIS_URL in the environment',
          )
          .optional(),
      })
      .prefault({}),
    cluster: z
      .strictObject({
        // How many instances serve one database: above 1, start-up requires Redis.
        instances: z.number().int().min(1).max(1_000).default(1),
        // PostgreSQL: how long an instance may miss heartbeats before another takes it for dead and
        // returns its holds (after the longest request it could still be serving, too: docs/scaling.md).
        instance_timeout_seconds: z.number().int().min(2).max(3_600).default(30),
        // PostgreSQL: the slice of a hot account's pools each instance reserves and holds against in
        // memory (credit leases, docs/scaling.md); 0 turns them off. SQLite ignores it.
        lease_micros: z.number().int().min(0).max(1_000_000_000_000).default(1_000_000),
      })
      .prefault({}),
    billing: z
      .strictObject({
        // No longer used: a hold lasts as long as its request. Still accepted, so that an existing
        // file keeps working; start-up logs a warning naming it (DEPRECATED_KEYS).
        hold_ttl_seconds: z.number().optional(),
      })
      .prefault({}),
    routing: z
      .strictObject({
        max_attempts: z.number().int().min(1).max(10).default(3),
        retry_base_ms: z.number().int().min(0).max(60_000).default(500),
        retry_max_ms: z.number().int().min(0).max(120_000).default(8_000),
        cooldown_failures: z.number().int().min(1).max(1_000).default(3),
        cooldown_seconds: z.number().int().min(1).max(3_600).default(30),
      })
      .prefault({}),
    providers: z.array(provider).min(1),
    models: z.array(model).min(1),
    plans: z.array(plan).default([]),
    tiers: z.array(tier).default([]),
    // The tier of an account that has none of its own and no plan naming one; without it, no limits.
    default_tier: z.string().optional(),
    base_url_aliases: z.array(baseUrlAlias).default([]),
    dashboard,
    mail,
    metrics,
  })
  .superRefine((file, ctx) => {
    const providerIds = new Set<string>();
    file.providers.forEach((p, i) => {
      if (providerIds.has(p.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['providers', i, 'id'],
          message: `duplicate provider id "${p.id}"`,
        });
      }
      providerIds.add(p.id);
    });
    const planIds = new Set<string>();
    file.plans.forEach((p, i) => {
      if (planIds.has(p.id)) {
        ctx.addIssue({ code: 'custom', path: ['plans', i, 'id'], message: `duplicate plan id "${p.id}"` });
      }
      planIds.add(p.id);
    });
    checkTiers(file, ctx);
    const paths: string[] = [...API_BASES];
    file.base_url_aliases.forEach((alias, i) => {
      // A path inside another base (or containing one) would make routes ambiguous.
      const clash = paths.find(
        (taken) =>
          taken === alias.path || taken.startsWith(`${alias.path}/`) || alias.path.startsWith(`${taken}/`),
      );
      if (clash) {
        ctx.addIssue({
          code: 'custom',
          path: ['base_url_aliases', i, 'path'],
          message: `"${alias.path}" overlaps "${clash}"`,
        });
      }
      paths.push(alias.path);
      const dashboardPath = DASHBOARD_PATHS.find(
        (taken) => alias.path === taken || alias.path.startsWith(`${taken}/`),
      );
      if (dashboardPath) {
        ctx.addIssue({
          code: 'custom',
          path: ['base_url_aliases', i, 'path'],
          message: `"${alias.path}" collides with the dashboard's "${dashboardPath}"`,
        });
      }
    });
    if (file.dashboard.signup === 'open' && !file.mail.smtp_url) {
      ctx.addIssue({
        code: 'custom',
        path: ['dashboard', 'signup'],
        message: 'open sign-up needs mail.smtp_url: the verification link must reach the address',
      });
    }
    const names = new Set<string>();
    file.models.forEach((m, i) => {
      const single = m.provider !== undefined || m.upstream_model !== undefined;
      if (single === (m.deployments !== undefined) || (single && (!m.provider || !m.upstream_model))) {
        ctx.addIssue({
          code: 'custom',
          path: ['models', i],
          message: 'give either provider and upstream_model, or deployments',
        });
      }
      const targets = m.deployments ?? (m.provider ? [{ provider: m.provider }] : []);
      targets.forEach((d, j) => {
        if (providerIds.has(d.provider)) return;
        ctx.addIssue({
          code: 'custom',
          path: m.deployments ? ['models', i, 'deployments', j, 'provider'] : ['models', i, 'provider'],
          message: `unknown provider "${d.provider}"; declare it under providers`,
        });
      });
      for (const name of [m.id, ...m.aliases]) {
        if (names.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['models', i],
            message: `model name "${name}" is used twice`,
          });
        }
        names.add(name);
      }
    });
  });

export type ConfigFile = z.infer<typeof configFileSchema>;

type TierFields = { tiers: { id: string; models: '*' | string[] }[]; default_tier?: string | undefined };

/** Tier ids are unique, and every tier a plan, the default or a tier's model list names exists. */
function checkTiers(
  file: TierFields & { plans: { tier?: string | undefined }[]; models: { id: string; aliases: string[] }[] },
  ctx: z.RefinementCtx,
): void {
  const ids = new Set<string>();
  const modelNames = new Set(file.models.flatMap((m) => [m.id, ...m.aliases]));
  file.tiers.forEach((t, i) => {
    if (ids.has(t.id))
      ctx.addIssue({ code: 'custom', path: ['tiers', i, 'id'], message: `duplicate tier id "${t.id}"` });
    ids.add(t.id);
    if (t.models === '*') return;
    t.models.forEach((name, j) => {
      if (!modelNames.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['tiers', i, 'models', j],
          message: `unknown model "${name}"; list ids or aliases from models, or '*'`,
        });
    });
  });
  const known = () => (ids.size === 0 ? 'no tiers are declared' : `declared: ${[...ids].join(', ')}`);
  if (file.default_tier !== undefined && !ids.has(file.default_tier))
    ctx.addIssue({
      code: 'custom',
      path: ['default_tier'],
      message: `unknown tier "${file.default_tier}" (${known()})`,
    });
  file.plans.forEach((p, i) => {
    if (p.tier !== undefined && !ids.has(p.tier))
      ctx.addIssue({
        code: 'custom',
        path: ['plans', i, 'tier'],
        message: `unknown tier "${p.tier}" (${known()})`,
      });
  });
}
