import type { Config } from '../config/load-config.js';

/**
 * How long a request's place among those in flight may count without being released: the longest
 * a request can run (every attempt at the slowest provider's total timeout, and the waits between
 * them) and a minute of slack. Only a crashed instance leaves places unreleased; they lapse then.
 */
export function leaseLifetimeMs(config: Pick<Config, 'providers' | 'routing'>): number {
  const slowest = Math.max(...config.providers.map((p) => p.timeouts.totalMs));
  const waits = config.routing.retryMaxMs * (config.routing.maxAttempts - 1);
  return slowest * config.routing.maxAttempts + waits + 60_000;
}
