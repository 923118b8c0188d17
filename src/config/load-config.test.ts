import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, resolveConfigPath } from './load-config.js';

const VALID = `
brand: llmbase
providers:
  - id: local
    type: openai-compatible
    base_url: http://127.0.0.1:11434/v1//
  - id: openai
    type: openai-compatible
    base_url: https://api.openai.com/v1
    api_key_env: OPENAI_API_KEY
    max_connections: 32
    timeouts:
      connect_ms: 1000
models:
  - id: deepseek/deepseek-v4-flash
    aliases: [flash, ds]
    provider: local
    upstream_model: deepseek-v4-flash
    input_usd_per_million: 0.27
    output_usd_per_million: "1.10"
    max_output_tokens: 8192
  - id: gpt-4o-mini
    provider: openai
    upstream_model: gpt-4o-mini
    input_usd_per_million: 0.15
    output_usd_per_million: 0.6
    max_output_tokens: 16384
    owned_by: openai-inc
`;

function configError(text: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    parseConfig(text, 'conf/tollgate.yaml', env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const temporaryDirectories: string[] = [];

function temporaryDirectory(): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'tollgate-config-'));
  temporaryDirectories.push(directory);
  return directory;
}

afterEach(() => {
  for (const directory of temporaryDirectories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('parseConfig with a valid file', () => {
  const config = parseConfig(VALID, 'conf/tollgate.yaml', {});

  it('keeps the source path and brand', () => {
    expect(config.sourcePath).toBe('conf/tollgate.yaml');
    expect(config.brand).toBe('llmbase');
  });

  it('fills in the server and database defaults', () => {
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 8080,
      bodyLimitBytes: 4 * 1024 * 1024,
      trustProxy: false,
      logLevel: 'info',
      accessLog: false,
      publicUrl: undefined,
    });
    expect(config.database).toEqual({ kind: 'sqlite', path: './data/tollgate.db' });
    expect(config.deprecations).toEqual([]);
  });

  it('converts prices in USD per million, numbers or strings, to integer micro-USD per million', () => {
    expect(config.models[0]?.price).toEqual({
      inputMicrosPerMillion: 270_000,
      outputMicrosPerMillion: 1_100_000,
    });
    expect(config.models[1]?.price).toEqual({
      inputMicrosPerMillion: 150_000,
      outputMicrosPerMillion: 600_000,
    });
    for (const model of config.models) {
      expect(Number.isInteger(model.price.inputMicrosPerMillion)).toBe(true);
      expect(Number.isInteger(model.price.outputMicrosPerMillion)).toBe(true);
    }
  });

  it('converts prices with up to six decimals exactly', () => {
    for (const [text, micros] of [
      ['0.000001', 1],
      ['0.145', 145_000],
      ['"2.675"', 2_675_000],
      ['0.3', 300_000],
      ['1000000', 1_000_000_000_000],
      ['0', 0],
    ] as const) {
      const parsed = parseConfig(VALID.replace('0.27', text), 'f', {});
      expect(parsed.models[0]?.price.inputMicrosPerMillion, text).toBe(micros);
    }
  });

  it('gives camelCase models with aliases, upstream name and owner', () => {
    expect(config.models[0]).toEqual({
      id: 'deepseek/deepseek-v4-flash',
      aliases: ['flash', 'ds'],
      providerId: 'local',
      upstreamModel: 'deepseek-v4-flash',
      deployments: [
        {
          providerId: 'local',
          upstreamModel: 'deepseek-v4-flash',
          price: { inputMicrosPerMillion: 270_000, outputMicrosPerMillion: 1_100_000 },
        },
      ],
      price: { inputMicrosPerMillion: 270_000, outputMicrosPerMillion: 1_100_000 },
      holdPrice: { inputMicrosPerMillion: 270_000, outputMicrosPerMillion: 1_100_000 },
      maxOutputTokens: 8_192,
      ownedBy: 'local',
      promptAllowance: { imageTokens: 3_000, fileTokens: 300_000, audioTokens: undefined, overheadTokens: 0 },
      allowFields: new Set(),
    });
    expect(config.models[1]?.aliases).toEqual([]);
    expect(config.models[1]?.ownedBy).toBe('openai-inc');
  });

  it('gives camelCase providers with trailing slashes cut from the base URL and default limits', () => {
    expect(config.providers).toEqual([
      {
        id: 'local',
        type: 'openai-compatible',
        baseUrl: 'http://127.0.0.1:11434/v1',
        apiKeyEnv: undefined,
        endpoints: [{ baseUrl: 'http://127.0.0.1:11434/v1', apiKeyEnv: undefined, weight: 1 }],
        maxConnections: 256,
        quirks: { unknownFields: 'pass', streamUsage: true, maxTokensField: 'max_tokens' },
        timeouts: { connectMs: 5_000, firstByteMs: 120_000, idleMs: 120_000, totalMs: 600_000 },
        promptOverheadTokens: 0,
      },
      {
        id: 'openai',
        type: 'openai-compatible',
        baseUrl: 'https://api.openai.com/v1',
        apiKeyEnv: 'OPENAI_API_KEY',
        endpoints: [{ baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY', weight: 1 }],
        maxConnections: 32,
        quirks: { unknownFields: 'pass', streamUsage: true, maxTokensField: 'max_tokens' },
        timeouts: { connectMs: 1_000, firstByteMs: 120_000, idleMs: 120_000, totalMs: 600_000 },
        promptOverheadTokens: 0,
      },
    ]);
  });

  it("reads a model's media allowances and allowed fields, and the dearest provider overhead", () => {
    const text = `
brand: llmbase
providers:
  - id: claude
    type: anthropic
    base_url: https://api.anthropic.com/v1
  - id: gem
    type: gemini
    base_url: https://generativelanguage.googleapis.com/v1beta
  - id: openai
    type: openai-compatible
    base_url: https://api.openai.com/v1
    max_tokens_field: max_completion_tokens
    prompt_overhead_tokens: 900
models:
  - id: m
    deployments:
      - { provider: claude, upstream_model: a }
      - { provider: gem, upstream_model: b }
    input_usd_per_million: 1
    output_usd_per_million: 1
    max_output_tokens: 10
    image_tokens: 1500
    file_tokens: 20000
    audio_tokens: 700
    allow_fields: [service_tier, web_search_options]
  - id: n
    provider: openai
    upstream_model: c
    input_usd_per_million: 1
    output_usd_per_million: 1
    max_output_tokens: 10
`;
    const parsed = parseConfig(text, 'f', {});
    expect(parsed.providers.map((p) => p.promptOverheadTokens)).toEqual([600, 0, 900]);
    expect(parsed.providers[2]?.quirks.maxTokensField).toBe('max_completion_tokens');
    expect(parsed.models[0]?.promptAllowance).toEqual({
      imageTokens: 1_500,
      fileTokens: 20_000,
      audioTokens: 700,
      overheadTokens: 600,
    });
    expect([...(parsed.models[0]?.allowFields ?? [])]).toEqual(['service_tier', 'web_search_options']);
    expect(parsed.models[1]?.promptAllowance.overheadTokens).toBe(900);
  });

  it('reads every server setting the file gives', () => {
    const text = `${VALID}
server:
  host: 0.0.0.0
  port: 3000
  body_limit_bytes: 2048
  trust_proxy: [10.0.0.0/8, "2001:db8::1"]
  public_url: https://llm.example.com/
  log_level: debug
  access_log: true
database:
  url: sqlite:/var/lib/tollgate/db.sqlite
`;
    const parsed = parseConfig(text, 'f', {});
    expect(parsed.server).toEqual({
      host: '0.0.0.0',
      port: 3_000,
      bodyLimitBytes: 2_048,
      trustProxy: ['10.0.0.0/8', '2001:db8::1'],
      logLevel: 'debug',
      accessLog: true,
      publicUrl: 'https://llm.example.com',
    });
    expect(parsed.database).toEqual({ kind: 'sqlite', path: '/var/lib/tollgate/db.sqlite' });
  });

  it('still accepts the retired billing.hold_ttl_seconds, and names it as ignored', () => {
    const parsed = parseConfig(`${VALID}billing:\n  hold_ttl_seconds: 600\n`, 'f', {});
    expect(parsed.deprecations).toHaveLength(1);
    expect(parsed.deprecations[0]).toMatch(/^billing\.hold_ttl_seconds is ignored/);
    expect(parsed.deprecations[0]).toContain('timeouts.total_ms');
  });

  it("reads a provider's total deadline", () => {
    const parsed = parseConfig(
      VALID.replace('connect_ms: 1000', 'connect_ms: 1000\n      total_ms: 90000'),
      'f',
      {},
    );
    expect(parsed.providers[1]?.timeouts.totalMs).toBe(90_000);
  });

  it('loads the example configuration shipped with the repository', () => {
    const example = loadConfig(path.resolve(import.meta.dirname, '../../tollgate.example.yaml'), {});
    expect(example.brand).toBe('llmbase');
    expect(example.models.find((m) => m.id === 'deepseek/deepseek-v4-flash')?.price).toEqual({
      inputMicrosPerMillion: 270_000,
      outputMicrosPerMillion: 1_100_000,
    });
  });
});

describe('parseConfig with a bad file', () => {
  it.each([
    ['a price that is not a number', VALID.replace('0.27', 'cheap'), 'models[0].input_usd_per_million'],
    ['a negative price', VALID.replace('0.27', '-0.27'), 'models[0].input_usd_per_million'],
    ['a price string with a comma', VALID.replace('"1.10"', '"1,10"'), 'models[0].output_usd_per_million'],
    ['a price over a million dollars', VALID.replace('0.6', '1000001'), 'models[1].output_usd_per_million'],
    ['a fractional max_output_tokens', VALID.replace('8192', '8192.5'), 'models[0].max_output_tokens'],
    ['a missing upstream_model', VALID.replace('    upstream_model: gpt-4o-mini\n', ''), 'models[1]'],
    ['an unknown key in a model', VALID.replace('owned_by: openai-inc', 'ownedby: x'), 'models[1]'],
    [
      'an unknown provider type',
      VALID.replace('type: openai-compatible', 'type: cohere'),
      'providers[0].type',
    ],
    [
      'a non-http base URL',
      VALID.replace('https://api.openai.com/v1', 'ftp://example.com'),
      'providers[1].base_url',
    ],
    [
      'a secret in place of the env variable name',
      VALID.replace('api_key_env: OPENAI_API_KEY', 'api_key_env: sk-abc123'),
      'providers[1].api_key_env',
    ],
    ['an upper-case provider id', VALID.replace('id: local', 'id: Local'), 'providers[0].id'],
    [
      'a timeout of zero',
      VALID.replace('connect_ms: 1000', 'connect_ms: 0'),
      'providers[1].timeouts.connect_ms',
    ],
    ['a bad log level', `${VALID}server:\n  log_level: verbose\n`, 'server.log_level'],
    [
      'a total deadline of zero',
      VALID.replace('connect_ms: 1000', 'total_ms: 0'),
      'providers[1].timeouts.total_ms',
    ],
    ['a database neither SQLite nor PostgreSQL', `${VALID}database:\n  url: mysql://x\n`, 'database.url'],
    ['a password in the database URL', `${VALID}database:\n  url: postgres://u:pw@x/db\n`, 'database.url'],
    ['no models', VALID.replace(/models:[\s\S]*$/, 'models: []\n'), 'models'],
    [
      'an output-limit field no provider reads',
      VALID.replace('max_connections: 32', 'max_connections: 32\n    max_tokens_field: max_new_tokens'),
      'providers[1].max_tokens_field',
    ],
    [
      'a field allowed that Tollgate does not refuse',
      VALID.replace('owned_by: openai-inc', 'owned_by: openai-inc\n    allow_fields: [temperature]'),
      'models[1].allow_fields[0]',
    ],
    [
      'a negative image allowance',
      VALID.replace('owned_by: openai-inc', 'owned_by: openai-inc\n    image_tokens: -1'),
      'models[1].image_tokens',
    ],
  ])('refuses %s and names the field', (_name, text, field) => {
    const error = configError(text);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.name).toBe('ConfigError');
    expect(error.message.startsWith(`conf/tollgate.yaml: ${field}:`), error.message).toBe(true);
    expect(error.message).not.toContain('\n');
  });

  it('refuses an unknown top-level key and names it', () => {
    const error = configError(`${VALID}colour: blue\n`);
    expect(error.message).toMatch(/^conf\/tollgate\.yaml: \(top level\): /);
    expect(error.message).toContain('colour');
  });

  it('refuses an unknown key in the server section and names it', () => {
    const error = configError(`${VALID}server:\n  prot: 8080\n`);
    expect(error.message).toMatch(/^conf\/tollgate\.yaml: server: /);
    expect(error.message).toContain('prot');
  });

  it('refuses a model that references an unknown provider', () => {
    const error = configError(VALID.replace('provider: openai', 'provider: azure'));
    expect(error.message).toBe(
      'conf/tollgate.yaml: models[1].provider: unknown provider "azure"; declare it under providers',
    );
  });

  it('refuses a model alias used twice', () => {
    const error = configError(
      VALID.replace('owned_by: openai-inc', 'owned_by: openai-inc\n    aliases: [flash]'),
    );
    expect(error.message).toBe('conf/tollgate.yaml: models[1]: model name "flash" is used twice');
  });

  it('refuses an alias equal to another model id', () => {
    const error = configError(VALID.replace('[flash, ds]', '[flash, gpt-4o-mini]'));
    expect(error.message).toBe('conf/tollgate.yaml: models[1]: model name "gpt-4o-mini" is used twice');
  });

  it('refuses two providers with the same id', () => {
    const error = configError(
      VALID.replace('id: openai', 'id: local').replace('provider: openai', 'provider: local'),
    );
    expect(error.message).toBe('conf/tollgate.yaml: providers[1].id: duplicate provider id "local"');
  });

  it.each(['LLMBase', 'l', '1llm', 'llm_base', 'llm-base', 'a'.repeat(33)])(
    'refuses the brand %j',
    (brand) => {
      const error = configError(VALID.replace('brand: llmbase', `brand: ${brand}`));
      expect(error.message).toMatch(
        /^conf\/tollgate\.yaml: brand: expected 2-32 lowercase letters or digits/,
      );
    },
  );

  it('refuses a missing brand', () => {
    expect(configError(VALID.replace('brand: llmbase\n', '')).message).toMatch(
      /^conf\/tollgate\.yaml: brand: /,
    );
  });

  it('refuses invalid YAML as invalid YAML in one line', () => {
    const error = configError('brand: llmbase\nproviders: [\n  - id: x\n');
    expect(error.message).toMatch(/^conf\/tollgate\.yaml(:\d+)?: invalid YAML: /);
    expect(error.message).not.toContain('\n');
  });

  it('refuses a file that repeats a key', () => {
    expect(configError(`brand: llmbase\n${VALID}`).message).toContain('invalid YAML');
  });

  it('refuses an empty file', () => {
    expect(configError('')).toBeInstanceOf(ConfigError);
  });

  it('says on which line the YAML is invalid', () => {
    const text = 'brand: llmbase\nserver:\n  host: "127.0.0.1\n  port: 8080\n';
    expect(configError(text).message).toMatch(/^conf\/tollgate\.yaml:\d+: invalid YAML: /);
  });
});

describe('environment overrides', () => {
  it('lets PORT and HOST override the file', () => {
    const config = parseConfig(`${VALID}server:\n  host: 10.0.0.1\n  port: 3000\n`, 'f', {
      PORT: '9090',
      HOST: '0.0.0.0',
    });
    expect(config.server.port).toBe(9_090);
    expect(config.server.host).toBe('0.0.0.0');
  });

  it('accepts PORT 0 and 65535', () => {
    expect(parseConfig(VALID, 'f', { PORT: '0' }).server.port).toBe(0);
    expect(parseConfig(VALID, 'f', { PORT: '65535' }).server.port).toBe(65_535);
  });

  it.each(['eighty', '65536', '-1', '80.5', '8080abc'])('refuses PORT=%j and names PORT', (port) => {
    const error = configError(VALID, { PORT: port });
    expect(error.message).toBe(`PORT: expected a whole number from 0 to 65535, got "${port}"`);
  });

  it('refuses an empty PORT instead of listening on a random port', () => {
    expect(configError(VALID, { PORT: '' }).message).toMatch(/^PORT: /);
  });

  it('lets TOLLGATE_DATABASE_URL and TOLLGATE_LOG_LEVEL override the file', () => {
    const config = parseConfig(VALID, 'f', {
      TOLLGATE_DATABASE_URL: 'sqlite:/tmp/other.db',
      TOLLGATE_LOG_LEVEL: 'warn',
    });
    expect(config.database).toEqual({ kind: 'sqlite', path: '/tmp/other.db' });
    expect(config.server.logLevel).toBe('warn');
  });

  it.each(['mysql://db', 'sqlite:', '/tmp/x.db', 'postgres://'])(
    'refuses TOLLGATE_DATABASE_URL=%j',
    (url) => {
      expect(configError(VALID, { TOLLGATE_DATABASE_URL: url }).message).toMatch(/^TOLLGATE_DATABASE_URL: /);
    },
  );

  it('selects PostgreSQL from TOLLGATE_DATABASE_URL, password included, with a pool of 10 by default', () => {
    for (const url of ['postgres://tollgate:secret@db:5432/tollgate', 'postgresql://db/tollgate']) {
      const config = parseConfig(VALID, 'f', { TOLLGATE_DATABASE_URL: url });
      expect(config.database).toEqual({ kind: 'postgres', url, poolSize: 10 });
    }
  });

  it('selects PostgreSQL from database.url without a password, with its pool size', () => {
    const config = parseConfig(
      `${VALID}database:\n  url: postgres://tollgate@db.internal/tollgate\n  pool_size: 25\n`,
      'f',
      {},
    );
    expect(config.database).toEqual({
      kind: 'postgres',
      url: 'postgres://tollgate@db.internal/tollgate',
      poolSize: 25,
    });
  });

  it('refuses a password in database.url, naming the setting and never repeating the password', () => {
    const error = configError(`${VALID}database:\n  url: postgres://tollgate:hunter2@db/tollgate\n`, {});
    expect(error.message).toMatch(
      /^conf\/tollgate\.yaml: database\.url: a password does not belong in the configuration file/,
    );
    expect(error.message).toMatch(/PGPASSWORD/);
    expect(error.message).not.toContain('hunter2');
  });
});

describe('loadConfig', () => {
  it('reads a file from disk', () => {
    const directory = temporaryDirectory();
    const file = path.join(directory, 'tollgate.yaml');
    writeFileSync(file, VALID);
    expect(loadConfig(file, {}).sourcePath).toBe(file);
  });

  it('refuses a missing file with a ConfigError that says so', () => {
    const file = path.join(temporaryDirectory(), 'nope.yaml');
    expect(() => loadConfig(file, {})).toThrow(ConfigError);
    expect(() => loadConfig(file, {})).toThrow(
      `${file}: cannot read the configuration file (file not found)`,
    );
  });

  it('refuses a directory given as the file with a ConfigError', () => {
    expect(() => loadConfig(temporaryDirectory(), {})).toThrow(ConfigError);
  });

  it('names the file in errors about its content', () => {
    const file = path.join(temporaryDirectory(), 'tollgate.yaml');
    writeFileSync(file, VALID.replace('0.27', 'cheap'));
    expect(() => loadConfig(file, {})).toThrow(`${file}: models[0].input_usd_per_million:`);
  });
});

describe('resolveConfigPath', () => {
  it('uses --config first, resolved against the working directory', () => {
    const cwd = temporaryDirectory();
    writeFileSync(path.join(cwd, 'tollgate.yaml'), VALID);
    expect(resolveConfigPath('custom.yaml', { TOLLGATE_CONFIG: 'env.yaml' }, cwd)).toBe(
      path.join(cwd, 'custom.yaml'),
    );
    expect(resolveConfigPath('/etc/tollgate.yaml', {}, cwd)).toBe('/etc/tollgate.yaml');
  });

  it('uses TOLLGATE_CONFIG when there is no --config', () => {
    const cwd = temporaryDirectory();
    writeFileSync(path.join(cwd, 'tollgate.yaml'), VALID);
    expect(resolveConfigPath(undefined, { TOLLGATE_CONFIG: 'conf/env.yaml' }, cwd)).toBe(
      path.join(cwd, 'conf/env.yaml'),
    );
  });

  it('uses ./tollgate.yaml when it exists and nothing else was given', () => {
    const cwd = temporaryDirectory();
    writeFileSync(path.join(cwd, 'tollgate.yaml'), VALID);
    expect(resolveConfigPath(undefined, {}, cwd)).toBe(path.join(cwd, 'tollgate.yaml'));
  });

  it('falls back to the shipped example when there is no ./tollgate.yaml', () => {
    const cwd = temporaryDirectory();
    expect(resolveConfigPath(undefined, {}, cwd)).toBe(path.join(cwd, 'tollgate.example.yaml'));
  });

  it('treats an empty TOLLGATE_CONFIG as not set', () => {
    const cwd = temporaryDirectory();
    expect(resolveConfigPath(undefined, { TOLLGATE_CONFIG: '' }, cwd)).toBe(
      path.join(cwd, 'tollgate.example.yaml'),
    );
  });
});

describe('plans', () => {
  const PLANS = `
plans:
  - id: starter
    kind: inference
    name: Starter
    monthly_budget_usd: 20
  - id: pro-chat
    kind: chat
    agent_limits:
      - window_hours: 5
        requests: 50
      - window_hours: 168
        usd: "12.5"
      - window_hours: 0.5
        requests: 3
        usd: 0.000001
`;

  it('has no plans when the file declares none', () => {
    expect(parseConfig(VALID, 'f', {}).plans).toEqual([]);
  });

  it('reads inference and chat plans with budgets in micro-USD and windows in milliseconds', () => {
    const config = parseConfig(`${VALID}${PLANS}`, 'f', {});
    expect(config.plans).toEqual([
      { id: 'starter', kind: 'inference', name: 'Starter', monthlyBudget: 20 * 1_000_000 },
      {
        id: 'pro-chat',
        kind: 'chat',
        // A plan without a name is shown by its id.
        name: 'pro-chat',
        agentLimits: [
          { windowMs: 5 * 3_600_000, requests: 50, usd: undefined },
          { windowMs: 168 * 3_600_000, requests: undefined, usd: 12_500_000 },
          { windowMs: 30 * 60_000, requests: 3, usd: 1 },
        ],
      },
    ]);
  });

  it('converts budgets with up to six decimals exactly', () => {
    for (const [text, micros] of [
      ['0.3', 300_000],
      ['"19.99"', 19_990_000],
      ['2.675', 2_675_000],
      ['0.000001', 1],
      ['1000000', 1_000_000_000_000],
    ] as const) {
      const config = parseConfig(
        `${VALID}${PLANS.replace('monthly_budget_usd: 20', `monthly_budget_usd: ${text}`)}`,
        'f',
        {},
      );
      expect(config.plans[0], text).toMatchObject({ monthlyBudget: micros });
    }
  });

  it('refuses a chat plan limit that gives neither requests nor usd, naming the limit', () => {
    const error = configError(`${VALID}${PLANS.replace('        requests: 50\n', '')}`);
    expect(error.message.startsWith('conf/tollgate.yaml: plans[1].agent_limits[0]'), error.message).toBe(
      true,
    );
    expect(error.message).toMatch(/requests.*usd/);
    expect(error.message).not.toContain('\n');
  });

  it.each([
    ['an unknown kind', PLANS.replace('kind: inference', 'kind: enterprise'), 'plans[0]', /kind/],
    ['a plan without a kind', PLANS.replace('    kind: inference\n', ''), 'plans[0]', /kind/],
    [
      'a zero budget',
      PLANS.replace('monthly_budget_usd: 20', 'monthly_budget_usd: 0'),
      'plans[0].monthly_budget_usd',
      /./,
    ],
    [
      'a negative budget',
      PLANS.replace('monthly_budget_usd: 20', 'monthly_budget_usd: -5'),
      'plans[0].monthly_budget_usd',
      /./,
    ],
    [
      'a budget that is not a number',
      PLANS.replace('monthly_budget_usd: 20', 'monthly_budget_usd: lots'),
      'plans[0].monthly_budget_usd',
      /./,
    ],
    [
      'a budget with seven decimals',
      PLANS.replace('monthly_budget_usd: 20', 'monthly_budget_usd: "0.0000001"'),
      'plans[0].monthly_budget_usd',
      /./,
    ],
    [
      'an inference plan without a budget',
      PLANS.replace('    monthly_budget_usd: 20\n', ''),
      'plans[0]',
      /monthly_budget_usd|expected/,
    ],
    [
      'agent limits on an inference plan',
      PLANS.replace('monthly_budget_usd: 20', 'monthly_budget_usd: 20\n    agent_limits: []'),
      'plans[0]',
      /agent_limits/,
    ],
    [
      'a chat plan without limits',
      PLANS.replace(/agent_limits:[\s\S]*$/, 'agent_limits: []\n'),
      'plans[1].agent_limits',
      /./,
    ],
    [
      'a window of zero hours',
      PLANS.replace('window_hours: 5', 'window_hours: 0'),
      'plans[1].agent_limits[0].window_hours',
      /./,
    ],
    [
      'a fractional request count',
      PLANS.replace('requests: 50', 'requests: 2.5'),
      'plans[1].agent_limits[0].requests',
      /./,
    ],
    ['an upper-case plan id', PLANS.replace('id: starter', 'id: Starter'), 'plans[0].id', /lowercase/],
  ])('refuses %s and names the field', (_name, plans, field, message) => {
    const error = configError(`${VALID}${plans}`);
    expect(error.message.startsWith(`conf/tollgate.yaml: ${field}`), error.message).toBe(true);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  // A YAML number is checked for its decimals as a string is: rounding it would make a $0 plan.
  it('refuses a budget given as a YAML number with more than six decimals instead of rounding it to $0', () => {
    const error = configError(
      `${VALID}${PLANS.replace('monthly_budget_usd: 20', 'monthly_budget_usd: 0.0000004')}`,
    );
    expect(error.message.startsWith('conf/tollgate.yaml: plans[0].monthly_budget_usd'), error.message).toBe(
      true,
    );
    expect(error.message).toMatch(/6 decimal places/);
  });

  it('refuses an agent window shorter than a minute, and says what a missing budget should be', () => {
    const tiny = configError(`${VALID}${PLANS.replace('window_hours: 5', 'window_hours: 0.0000001')}`);
    expect(tiny.message).toMatch(/agent_limits\[0\]\.window_hours: expected at least one minute/);
    const missing = configError(`${VALID}${PLANS.replace('    monthly_budget_usd: 20\n', '')}`);
    expect(missing.message).toMatch(/plans\[0\]\.monthly_budget_usd: expected a USD amount such as 20.00/);
  });

  it('refuses two plans with the same id, even of different kinds', () => {
    const error = configError(`${VALID}${PLANS.replace('id: pro-chat', 'id: starter')}`);
    expect(error.message).toBe('conf/tollgate.yaml: plans[1].id: duplicate plan id "starter"');
  });
});

describe('base_url_aliases', () => {
  const aliases = (...entries: [string, string][]) =>
    `${VALID}base_url_aliases:\n${entries.map(([p, same]) => `  - path: ${p}\n    same_as: ${same}\n`).join('')}`;

  it('serves each API base at its own path only when no alias is given', () => {
    expect(parseConfig(VALID, 'f', {}).basePaths).toEqual({
      '/v1': ['/v1'],
      '/api/v1/agents': ['/api/v1/agents'],
      '/api/chat-agent/v1': ['/api/chat-agent/v1'],
    });
  });

  it('adds each valid alias after the base it serves', () => {
    const config = parseConfig(
      aliases(['/openai/v1', '/v1'], ['/agents', '/api/v1/agents'], ['/v10', '/v1']),
      'f',
      {},
    );
    expect(config.basePaths).toEqual({
      '/v1': ['/v1', '/openai/v1', '/v10'],
      '/api/v1/agents': ['/api/v1/agents', '/agents'],
      '/api/chat-agent/v1': ['/api/chat-agent/v1'],
    });
  });

  it.each([
    ['a base itself', '/v1', '/v1'],
    ['a path inside a base', '/v1/x', '/v1'],
    ['a path that contains a base', '/api', '/api/v1/agents'],
    ['a path inside the chat-agent base', '/api/chat-agent/v1/more', '/api/chat-agent/v1'],
  ])('refuses an alias that is %s', (_name, aliasPath, clash) => {
    const error = configError(aliases([aliasPath, '/v1']));
    expect(error.message).toBe(
      `conf/tollgate.yaml: base_url_aliases[0].path: "${aliasPath}" overlaps "${clash}"`,
    );
  });

  it('refuses an alias that overlaps an earlier alias', () => {
    const error = configError(aliases(['/openai', '/v1'], ['/openai/v1', '/api/v1/agents']));
    expect(error.message).toBe(
      'conf/tollgate.yaml: base_url_aliases[1].path: "/openai/v1" overlaps "/openai"',
    );
  });

  it('refuses an alias path with a trailing slash', () => {
    const error = configError(aliases(['/openai/v1/', '/v1']));
    expect(error.message).toMatch(/^conf\/tollgate\.yaml: base_url_aliases\[0\]\.path: .*trailing slash/);
  });

  it.each(['openai/v1', '/', '/open ai', '/a//b'])('refuses the alias path %j', (aliasPath) => {
    expect(configError(aliases([JSON.stringify(aliasPath), '/v1'])).message).toMatch(
      /^conf\/tollgate\.yaml: base_url_aliases\[0\]\.path: /,
    );
  });

  it('refuses an alias of a base Tollgate does not serve, listing the bases', () => {
    const error = configError(aliases(['/openai/v1', '/v2']));
    expect(error.message).toMatch(/^conf\/tollgate\.yaml: base_url_aliases\[0\]\.same_as: /);
    expect(error.message).toContain('/v1, /api/v1/agents, /api/chat-agent/v1');
  });
});

describe('cache prices', () => {
  const withAnthropic = (model: string, deployment = '') => `
brand: llmbase
providers:
  - { id: claude, type: anthropic, base_url: "https://api.anthropic.com/v1" }
  - { id: local, type: openai-compatible, base_url: "http://127.0.0.1:11434/v1" }
models:
  - id: sonnet
    input_usd_per_million: 3
    output_usd_per_million: 15
    max_output_tokens: 1000
${model}
    deployments:
      - { provider: claude, upstream_model: claude-sonnet${deployment} }
      - { provider: local, upstream_model: local-model }
`;

  it('follow Anthropic’s published multipliers by default, and the hold prices every prompt token as a cache write', () => {
    const [sonnet] = parseConfig(withAnthropic(''), 'f', {}).models;
    expect(sonnet?.deployments[0]?.price).toEqual({
      inputMicrosPerMillion: 3_000_000,
      outputMicrosPerMillion: 15_000_000,
      cacheWriteMicrosPerMillion: 3_750_000,
      cacheReadMicrosPerMillion: 300_000,
    });
    // An OpenAI-compatible server bills cached tokens at whatever it bills: the input price unless told.
    expect(sonnet?.deployments[1]?.price).toEqual({
      inputMicrosPerMillion: 3_000_000,
      outputMicrosPerMillion: 15_000_000,
    });
    expect(sonnet?.holdPrice).toEqual({
      inputMicrosPerMillion: 3_750_000,
      outputMicrosPerMillion: 15_000_000,
    });
  });

  it('take the model’s multipliers, and a deployment’s own over them', () => {
    const [sonnet] = parseConfig(
      withAnthropic(
        '    cache_read_multiplier: 0.5\n    cache_write_multiplier: "2"',
        ', cache_write_multiplier: 1',
      ),
      'f',
      {},
    ).models;
    expect(sonnet?.deployments[0]?.price).toEqual({
      inputMicrosPerMillion: 3_000_000,
      outputMicrosPerMillion: 15_000_000,
      cacheReadMicrosPerMillion: 1_500_000,
    });
    expect(sonnet?.deployments[1]?.price).toMatchObject({ cacheWriteMicrosPerMillion: 6_000_000 });
    expect(sonnet?.holdPrice.inputMicrosPerMillion).toBe(6_000_000);
  });

  it('refuse a multiplier with more than four decimals, or a negative one', () => {
    expect(configError(withAnthropic('    cache_read_multiplier: 0.12345')).message).toBe(
      'conf/tollgate.yaml: models[0].cache_read_multiplier: at most 4 decimal places',
    );
    expect(configError(withAnthropic('    cache_write_multiplier: -1')).message).toMatch(
      /models\[0\]\.cache_write_multiplier/,
    );
  });
});
describe('server.trust_proxy and server.public_url', () => {
  const server = (lines: string) => `${VALID}\nserver:\n${lines}\n`;

  it('refuses trust_proxy: true, naming the forms it takes instead', () => {
    const error = configError(server('  trust_proxy: true'));
    expect(error.message).toMatch(/^conf\/tollgate\.yaml: server\.trust_proxy: true is refused: /);
    expect(error.message).toContain('X-Forwarded-For');
    expect(error.message).toContain('number of proxies');
    expect(error.message).toContain('10.0.0.0/8');
  });

  it('takes a hop count', () => {
    expect(parseConfig(server('  trust_proxy: 2'), 'f', {}).server.trustProxy).toBe(2);
  });

  it.each([
    ['0 hops', '  trust_proxy: 0', 'server.trust_proxy'],
    ['a fractional hop count', '  trust_proxy: 1.5', 'server.trust_proxy'],
    ['an empty list', '  trust_proxy: []', 'server.trust_proxy'],
    ['a host name in the list', '  trust_proxy: [proxy.local]', 'server.trust_proxy[0]'],
    ['a CIDR prefix too long for IPv4', '  trust_proxy: [10.0.0.0/33]', 'server.trust_proxy[0]'],
    ['a public URL with a path', '  public_url: https://example.com/tollgate', 'server.public_url'],
    ['a public URL that is not http', '  public_url: ftp://example.com', 'server.public_url'],
  ])('refuses %s', (_name, lines, field) => {
    expect(configError(server(lines)).message).toMatch(
      new RegExp(`^conf/tollgate\\.yaml: ${field.replace(/[.[\]]/g, '\\$&')}: `),
    );
  });
});

describe('dashboard and mail', () => {
  it('defaults to invite-only sign-up, OWASP session timeouts and argon2id parameters', () => {
    const config = parseConfig(VALID, 'f', {});
    expect(config.dashboard).toEqual({
      enabled: true,
      signup: 'invite',
      idleTimeoutMs: 30 * 60_000,
      absoluteTimeoutMs: 12 * 3_600_000,
      passwordHashing: { memoryKib: 19_456, iterations: 2 },
    });
    expect(config.mail).toEqual({ smtpUrl: undefined, from: 'Tollgate <no-reply@localhost>' });
  });

  it('refuses open sign-up without SMTP: the verification link could reach nobody', () => {
    expect(configError(`${VALID}\ndashboard:\n  signup: open\n`).message).toMatch(
      /^conf\/tollgate\.yaml: dashboard\.signup: open sign-up needs mail\.smtp_url/,
    );
  });

  it('refuses an SMTP password in the file, pointing to the environment variable', () => {
    const error = configError(`${VALID}\nmail:\n  smtp_url: smtp://user:hunter2@mail.example.com:587\n`);
    expect(error.message).toContain('mail.smtp_url');
    expect(error.message).toContain('TOLLGATE_SMTP_PASSWORD');
  });

  it.each(['/dashboard', '/dashboard/api/v1', '/keys', '/assets/v1'])(
    'refuses a base_url_aliases path %s that collides with the dashboard',
    (aliasPath) => {
      const error = configError(`${VALID}\nbase_url_aliases:\n  - { path: ${aliasPath}, same_as: /v1 }\n`);
      expect(error.message).toMatch(
        /^conf\/tollgate\.yaml: base_url_aliases\[0\]\.path: .*collides with the dashboard/,
      );
    },
  );
});
