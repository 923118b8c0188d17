import { existsSync, readFileSync } from 'node:fs';
import type { Config } from './load-config.js';
import { ConfigError } from './load-config.js';

/** Secrets are read from the environment only; nothing secret lives in the YAML file. */
export const KEY_SECRET_ENV = 'TOLLGATE_KEY_SECRET';
const MIN_KEY_SECRET_LENGTH = 32;

export function requireKeySecret(env: NodeJS.ProcessEnv): string {
  const secret = env[KEY_SECRET_ENV];
  if (!secret) {
    throw new ConfigError(
      `${KEY_SECRET_ENV}: not set. Set it to a random string of at least ${MIN_KEY_SECRET_LENGTH} characters (for example: openssl rand -hex 32), or run "tollgate init" once.`,
    );
  }
  if (secret.length < MIN_KEY_SECRET_LENGTH) {
    throw new ConfigError(
      `${KEY_SECRET_ENV}: too short; use at least ${MIN_KEY_SECRET_LENGTH} random characters.`,
    );
  }
  return secret;
}

/**
 * Provider keys by the name of the environment variable that holds them. Every variable a provider
 * or one of its endpoints names must be set.
 */
export function requireProviderKeys(config: Config, env: NodeJS.ProcessEnv): Map<string, string> {
  const keys = new Map<string, string>();
  for (const provider of config.providers) {
    for (const name of new Set(provider.endpoints.map((e) => e.apiKeyEnv))) {
      if (!name) continue;
      const value = env[name];
      if (!value) {
        throw new ConfigError(
          `providers.${provider.id}.api_key_env: the environment variable ${name} is not set`,
        );
      }
      keys.set(name, value);
    }
  }
  return keys;
}

/**
 * Local convenience: KEY=VALUE lines from an env file (what "tollgate init" writes under ./data)
 * fill in variables the real environment does not set. The real environment always wins.
 */
export function withEnvFile(env: NodeJS.ProcessEnv, file: string): NodeJS.ProcessEnv {
  if (!existsSync(file)) return env;
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match?.[1] || merged[match[1]] !== undefined) continue;
    // Quotes around a value are the file's syntax, not part of the value (as in dotenv files).
    const value = match[2] ?? '';
    merged[match[1]] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
  }
  return merged;
}

/** The SMTP password for mail.smtp_url: from the environment only, like every secret. */
export const SMTP_PASSWORD_ENV = 'TOLLGATE_SMTP_PASSWORD';

export function smtpPassword(env: NodeJS.ProcessEnv): string | undefined {
  return env[SMTP_PASSWORD_ENV] || undefined;
}

/** The bearer token Prometheus sends for GET /metrics on the API's port (from the environment only). */
export const METRICS_TOKEN_ENV = 'TOLLGATE_METRICS_TOKEN';
const MIN_METRICS_TOKEN_LENGTH = 16;

export function metricsToken(env: NodeJS.ProcessEnv): string | undefined {
  const token = env[METRICS_TOKEN_ENV] || undefined;
  if (token !== undefined && token.length < MIN_METRICS_TOKEN_LENGTH)
    throw new ConfigError(
      `${METRICS_TOKEN_ENV}: too short; use at least ${MIN_METRICS_TOKEN_LENGTH} random characters (for example: openssl rand -hex 32).`,
    );
  return token;
}
