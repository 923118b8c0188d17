import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load-config.js';

const MINIMAL = `
brand: llmbase
providers:
  - id: local
    type: openai-compatible
    base_url: http://127.0.0.1:11434/v1
models:
  - id: m
    provider: local
    upstream_model: m
    input_usd_per_million: 1
    output_usd_per_million: 1
    max_output_tokens: 100
`;

const parse = (extra: string, env: NodeJS.ProcessEnv = {}) =>
  parseConfig(`${MINIMAL}${extra}`, 'tollgate.yaml', env);

function refusal(extra: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parse(extra, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('cluster and Redis settings', () => {
  it('default to one instance without Redis, with no fixed instance id', () => {
    const config = parse('');
    expect(config.cluster).toMatchObject({ instances: 1, instanceId: undefined });
    expect(config.redisUrl).toBeUndefined();
  });

  it('read redis.url from the file and TOLLGATE_REDIS_URL, the environment first', () => {
    expect(parse('redis:\n  url: redis://cache.internal:6379\n').redisUrl).toBe(
      'redis://cache.internal:6379',
    );
    expect(
      parse('redis:\n  url: redis://cache.internal:6379\n', {
        TOLLGATE_REDIS_URL: 'redis://:s3cret@other:6379/2',
      }).redisUrl,
    ).toBe('redis://:s3cret@other:6379/2');
  });

  it('refuse a Redis password in the file, pointing to the environment', () => {
    const message = refusal('redis:\n  url: redis://:s3cret@cache.internal:6379\n');
    expect(message).toContain('redis.url');
    expect(message).toContain('TOLLGATE_REDIS_URL');
    expect(message).not.toContain('s3cret');
  });

  it('refuse more than one instance without Redis, naming both settings', () => {
    const message = refusal('cluster:\n  instances: 2\n');
    expect(message).toContain('cluster.instances');
    expect(message).toContain('redis.url');
  });

  it('accept several instances with Redis from either place', () => {
    expect(parse('cluster:\n  instances: 3\nredis:\n  url: redis://127.0.0.1:6379\n').cluster.instances).toBe(
      3,
    );
    expect(
      parse('cluster:\n  instances: 2\n', { TOLLGATE_REDIS_URL: 'redis://127.0.0.1:6379' }).cluster.instances,
    ).toBe(2);
  });

  it('take the instance id from TOLLGATE_INSTANCE_ID, and refuse one that would garble a log line', () => {
    expect(parse('', { TOLLGATE_INSTANCE_ID: 'gw-eu-1' }).cluster.instanceId).toBe('gw-eu-1');
    expect(refusal('', { TOLLGATE_INSTANCE_ID: 'two words' })).toContain('TOLLGATE_INSTANCE_ID');
  });

  it('refuse a TOLLGATE_REDIS_URL that is not a Redis URL', () => {
    expect(refusal('', { TOLLGATE_REDIS_URL: 'http://cache:6379' })).toContain('TOLLGATE_REDIS_URL');
  });
});
