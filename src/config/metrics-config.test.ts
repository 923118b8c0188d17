import { describe, expect, it } from 'vitest';
import { parseConfig } from './load-config.js';
import { metricsToken } from './secrets.js';

const BASE = `
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

describe('metrics and instance settings', () => {
  it('reads metrics.listen as host and port, IPv6 in brackets', () => {
    expect(parseConfig(BASE, 't.yaml', {}).metrics.listen).toBeUndefined();
    expect(parseConfig(`${BASE}metrics:\n  listen: 127.0.0.1:9464\n`, 't.yaml', {}).metrics.listen).toEqual({
      host: '127.0.0.1',
      port: 9464,
    });
    expect(parseConfig(`${BASE}metrics:\n  listen: "[::1]:9464"\n`, 't.yaml', {}).metrics.listen).toEqual({
      host: '::1',
      port: 9464,
    });
  });

  it('takes TOLLGATE_METRICS_LISTEN over the file, so that instances on one host can share it', () => {
    const env = { TOLLGATE_METRICS_LISTEN: '127.0.0.1:9465' };
    expect(parseConfig(`${BASE}metrics:\n  listen: 127.0.0.1:9464\n`, 't.yaml', env).metrics.listen).toEqual({
      host: '127.0.0.1',
      port: 9465,
    });
    expect(() => parseConfig(BASE, 't.yaml', { TOLLGATE_METRICS_LISTEN: '9465' })).toThrow(
      /^TOLLGATE_METRICS_LISTEN: expected host:port/,
    );
  });

  it('refuses a listen address without a port, naming the field', () => {
    expect(() => parseConfig(`${BASE}metrics:\n  listen: 127.0.0.1\n`, 't.yaml', {})).toThrow(
      /t\.yaml: metrics\.listen: expected host:port, such as 127\.0\.0\.1:9464/,
    );
  });

  it('takes the metrics token from the environment only, and refuses a short one', () => {
    expect(metricsToken({})).toBeUndefined();
    expect(metricsToken({ TOLLGATE_METRICS_TOKEN: 'a'.repeat(32) })).toBe('a'.repeat(32));
    expect(() => metricsToken({ TOLLGATE_METRICS_TOKEN: 'short' })).toThrow(
      /TOLLGATE_METRICS_TOKEN: too short/,
    );
  });
});
