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
    }),
    z.strictObject({
      id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'expected lowercase letters, digits, - or _'),
      kind: z.literal('chat'),
      name: z.string().min(1).max(100).optional(),
      agent_limits: z.array(agentLimit).min(1),
    }),
  ],
  { error: 'expected kind: inference or kind: chat' },
);

/** The API bases Tollgate serves; an alias serves the same API under another path. */
export const API_BASES = ['/v1', '/api/v1/agents', '/api/chat-agent/v1'] as const;

const baseUrlAlias = z.strictObject({
  path: z
    .string()
    .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'expected a path such as /openai/v1, without a trailing slash'),
  same_as: z.enum(API_BASES, { error: `expected one of ${API_BASES.join(', ')}` }),
});

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
        trust_proxy: z.boolean().default(false),
        log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        access_log: z.boolean().default(false),
      })
      .prefault({}),
    database: z
      .strictObject({
        url: z
          .string()
          .regex(/^sqlite:.+/, 'expected sqlite:<path>, for example sqlite:./data/tollgate.db')
          .default('sqlite:./data/tollgate.db'),
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
    base_url_aliases: z.array(baseUrlAlias).default([]),
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
    });
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
