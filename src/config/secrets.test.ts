import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load-config.js';
import { KEY_SECRET_ENV, requireKeySecret, requireProviderKeys, withEnvFile } from './secrets.js';

const CONFIG = `
brand: llmbase
providers:
  - id: local
    type: openai-compatible
    base_url: http://127.0.0.1:11434/v1
  - id: openai
    type: openai-compatible
    base_url: https://api.openai.com/v1
    api_key_env: OPENAI_API_KEY
  - id: deepseek
    type: openai-compatible
    base_url: https://api.deepseek.com/v1
    api_key_env: DEEPSEEK_API_KEY
models:
  - id: m
    provider: local
    upstream_model: m
    input_usd_per_million: 1
    output_usd_per_million: 1
    max_output_tokens: 100
`;
const config = parseConfig(CONFIG, 'tollgate.yaml', {});

const temporaryDirectories: string[] = [];

function envFile(content: string): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'tollgate-env-'));
  temporaryDirectories.push(directory);
  const file = path.join(directory, 'tollgate.env');
  writeFileSync(file, content);
  return file;
}

afterEach(() => {
  for (const directory of temporaryDirectories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('requireKeySecret', () => {
  it('returns a secret of 32 characters or more', () => {
    const secret = 'a'.repeat(32);
    expect(requireKeySecret({ [KEY_SECRET_ENV]: secret })).toBe(secret);
    expect(requireKeySecret({ TOLLGATE_KEY_SECRET: 'f'.repeat(64) })).toBe('f'.repeat(64));
  });

  it('refuses a missing or empty secret, naming the variable and how to make one', () => {
    for (const env of [{}, { TOLLGATE_KEY_SECRET: '' }]) {
      expect(() => requireKeySecret(env)).toThrow(ConfigError);
      expect(() => requireKeySecret(env)).toThrow(/^TOLLGATE_KEY_SECRET: not set\. .*tollgate init/);
    }
  });

  it('refuses a secret shorter than 32 characters', () => {
    expect(() => requireKeySecret({ TOLLGATE_KEY_SECRET: 'a'.repeat(31) })).toThrow(ConfigError);
    expect(() => requireKeySecret({ TOLLGATE_KEY_SECRET: 'a'.repeat(31) })).toThrow(
      /^TOLLGATE_KEY_SECRET: too short; use at least 32/,
    );
  });

  it('never puts the secret in its error message', () => {
    try {
      requireKeySecret({ TOLLGATE_KEY_SECRET: 'hunter2-not-long-enough' });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
      return;
    }
    throw new Error('expected a ConfigError');
  });
});

describe('requireProviderKeys', () => {
  it('returns each key by the variable that holds it, and skips providers that name none', () => {
    const keys = requireProviderKeys(config, {
      OPENAI_API_KEY: 'sk-openai',
      DEEPSEEK_API_KEY: 'sk-deepseek',
    });
    expect([...keys.entries()]).toEqual([
      ['OPENAI_API_KEY', 'sk-openai'],
      ['DEEPSEEK_API_KEY', 'sk-deepseek'],
    ]);
    expect(keys.size).toBe(2);
  });

  it('names the provider and the variable that is not set', () => {
    expect(() => requireProviderKeys(config, { OPENAI_API_KEY: 'sk-openai' })).toThrow(ConfigError);
    expect(() => requireProviderKeys(config, { OPENAI_API_KEY: 'sk-openai' })).toThrow(
      'providers.deepseek.api_key_env: the environment variable DEEPSEEK_API_KEY is not set',
    );
  });

  it('treats an empty variable as not set', () => {
    expect(() => requireProviderKeys(config, { OPENAI_API_KEY: '', DEEPSEEK_API_KEY: 'x' })).toThrow(
      'providers.openai.api_key_env: the environment variable OPENAI_API_KEY is not set',
    );
  });

  it('needs nothing when no provider names a variable', () => {
    const local = parseConfig(CONFIG.replace(/ {2}- id: openai[\s\S]*?(?=models:)/, ''), 'f', {});
    expect(local.providers.map((p) => p.id)).toEqual(['local']);
    expect(requireProviderKeys(local, {}).size).toBe(0);
  });
});

describe('withEnvFile', () => {
  it('returns the environment unchanged when the file does not exist', () => {
    const env = { A: '1' };
    expect(withEnvFile(env, path.join(tmpdir(), 'tollgate-no-such-dir', 'tollgate.env'))).toBe(env);
  });

  it('fills in variables the environment does not set', () => {
    const file = envFile(
      '# Written by "tollgate init".\nTOLLGATE_KEY_SECRET=0123456789abcdef0123456789abcdef\nOTHER = spaced value  \n',
    );
    expect(withEnvFile({ PATH: '/bin' }, file)).toEqual({
      PATH: '/bin',
      TOLLGATE_KEY_SECRET: '0123456789abcdef0123456789abcdef',
      OTHER: 'spaced value',
    });
  });

  it('never overrides the real environment, even with an empty value', () => {
    const file = envFile('TOLLGATE_KEY_SECRET=from-file\nPORT=1234\nHOST=from-file\n');
    const merged = withEnvFile({ TOLLGATE_KEY_SECRET: 'from-env', PORT: '' }, file);
    expect(merged.TOLLGATE_KEY_SECRET).toBe('from-env');
    expect(merged.PORT).toBe('');
    expect(merged.HOST).toBe('from-file');
  });

  it('does not change the environment object it was given', () => {
    const env: NodeJS.ProcessEnv = { A: '1' };
    withEnvFile(env, envFile('B=2\n'));
    expect(env).toEqual({ A: '1' });
  });

  it('keeps the first value when the file sets a variable twice', () => {
    expect(withEnvFile({}, envFile('A=first\nA=second\n')).A).toBe('first');
  });

  it('reads files with CRLF line endings without keeping the carriage return', () => {
    expect(withEnvFile({}, envFile('A=one\r\nB=two\r\n'))).toEqual({ A: 'one', B: 'two' });
  });

  it('ignores comments, blank lines and lines that are not NAME=VALUE', () => {
    const merged = withEnvFile(
      {},
      envFile('\n# A=commented\n  \nlowercase=x\nnot a line\n=novalue\nOK=yes\n'),
    );
    expect(merged).toEqual({ OK: 'yes' });
  });

  it('keeps = signs inside values and allows empty values', () => {
    expect(withEnvFile({}, envFile('URL=sqlite:./a.db?x=1\nEMPTY=\n'))).toEqual({
      URL: 'sqlite:./a.db?x=1',
      EMPTY: '',
    });
  });
});
