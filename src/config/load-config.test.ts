import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load-config.js';
import { requireKeySecret, requireProviderKeys } from './secrets.js';

const valid = `
brand: llmbase
providers:
  - id: openai
    type: openai-compatible
    base_url: https://api.openai.com/v1/
    api_key_env: OPENAI_API_KEY
models:
  - id: deepseek/deepseek-v4-flash
    aliases: [flash]
    provider: openai
    upstream_model: deepseek-chat
    input_usd_per_million: 0.27
    output_usd_per_million: "1.10"
    max_output_tokens: 8192
`;

function error(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(text, 'tollgate.yaml', env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('reads a valid file into prices in micro-USD per million tokens', () => {
    const config = parseConfig(valid, 'tollgate.yaml', {});
    expect(config.models[0]?.price).toEqual({
      inputMicrosPerMillion: 270_000,
      outputMicrosPerMillion: 1_100_000,
    });
    expect(config.providers[0]?.baseUrl).toBe('https://api.openai.com/v1');
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(config.databasePath).toBe('./data/tollgate.db');
  });

  it('lets PORT and HOST override the address, and refuses a PORT that is not a port', () => {
    expect(parseConfig(valid, 'f', { PORT: '9000', HOST: '0.0.0.0' }).server).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
    });
    expect(error(valid, { PORT: 'eighty' })).toMatch(/^PORT: /);
  });

  it.each([
    [valid.replace('0.27', 'cheap'), /tollgate\.yaml: models\[0\]\.input_usd_per_million/],
    [valid.replace('provider: openai', 'provider: nope'), /models\[0\]\.provider: unknown provider "nope"/],
    [valid.replace('[flash]', '[flash, deepseek/deepseek-v4-flash]'), /used twice/],
    [valid.replace('brand: llmbase', 'brand: LLM_Base'), /brand: expected/],
    [valid.replace('brand: llmbase', 'brand: llmbase\ncolour: blue'), /colour/],
    [
      valid.replace('api_key_env: OPENAI_API_KEY', 'api_key_env: sk-live-123'),
      /api_key_env: expected the NAME/,
    ],
    [valid.replace('https://api.openai.com/v1/', 'ftp://x'), /base_url/],
    [`${valid}\n  - id: [`, /tollgate\.yaml(:\d+)?: invalid YAML/],
  ])('names the field of a bad file in one message (%#)', (text, message) => {
    expect(error(text)).toMatch(message);
  });

  it('needs a long enough key secret and every named provider key', () => {
    expect(() => requireKeySecret({})).toThrow(/TOLLGATE_KEY_SECRET: not set/);
    expect(() => requireKeySecret({ TOLLGATE_KEY_SECRET: 'short' })).toThrow(/too short/);
    const config = parseConfig(valid, 'f', {});
    expect(() => requireProviderKeys(config, {})).toThrow(/OPENAI_API_KEY is not set/);
    expect(requireProviderKeys(config, { OPENAI_API_KEY: 'sk-test' }).get('openai')).toBe('sk-test');
  });
});
