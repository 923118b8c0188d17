import { describe, expect, it } from 'vitest';
import type { Deployment, RoutingPolicy } from '../../config/load-config.js';
import { attemptPlan, backoffMs, DeploymentHealth, retryAfterMs, retryable } from './routing.js';

const policy: RoutingPolicy = {
  maxAttempts: 4,
  retryBaseMs: 500,
  retryMaxMs: 8_000,
  cooldownFailures: 2,
  cooldownMs: 30_000,
};
const price = { inputMicrosPerMillion: 1, outputMicrosPerMillion: 1 };
const a: Deployment = { providerId: 'a', upstreamModel: 'm', price };
const b: Deployment = { providerId: 'b', upstreamModel: 'm', price };

function clockAt(start: number) {
  const clock = { time: start, now: () => clock.time };
  return clock;
}

describe('deployment routing', () => {
  it('tries deployments in order and cycles through them up to the attempt limit', () => {
    const health = new DeploymentHealth(policy, clockAt(0));
    expect(attemptPlan([a, b], health, 4)).toEqual([a, b, a, b]);
    expect(attemptPlan([a], health, 3)).toEqual([a, a, a]);
  });

  it('skips a deployment that keeps failing, and brings it back after the cooldown', () => {
    const clock = clockAt(0);
    const health = new DeploymentHealth(policy, clock);
    health.failed(a);
    expect(attemptPlan([a, b], health, 2)).toEqual([a, b]);
    health.failed(a);
    expect(attemptPlan([a, b], health, 2)).toEqual([b, b]);
    clock.time = 30_001;
    expect(attemptPlan([a, b], health, 2)).toEqual([a, b]);
  });

  it('tries cooling deployments anyway when every one is cooling', () => {
    const health = new DeploymentHealth(policy, clockAt(0));
    for (const d of [a, a, b, b]) health.failed(d);
    expect(attemptPlan([a, b], health, 2)).toEqual([a, b]);
  });

  it('forgets past failures once a deployment succeeds', () => {
    const health = new DeploymentHealth(policy, clockAt(0));
    health.failed(a);
    health.succeeded(a);
    health.failed(a);
    expect(health.cooling(a)).toBe(false);
  });

  it('retries rate limits, timeouts and server errors, not client errors', () => {
    expect([408, 429, 500, 502, 503, 504].every(retryable)).toBe(true);
    expect([400, 401, 403, 404, 422].some(retryable)).toBe(false);
  });

  it('honours retry-after-ms, retry-after in seconds and as a date', () => {
    expect(retryAfterMs({ 'retry-after-ms': '250' }, 0)).toBe(250);
    expect(retryAfterMs({ 'retry-after': '2' }, 0)).toBe(2_000);
    expect(retryAfterMs({ 'retry-after': new Date(10_000).toUTCString() }, 4_000)).toBe(6_000);
    expect(retryAfterMs({}, 0)).toBeUndefined();
  });

  it('backs off exponentially with jitter, capped, unless the provider said how long to wait', () => {
    expect(backoffMs(1, undefined, policy, 0)).toBe(250);
    expect(backoffMs(1, undefined, policy, 1)).toBe(500);
    expect(backoffMs(3, undefined, policy, 1)).toBe(2_000);
    expect(backoffMs(10, undefined, policy, 1)).toBe(8_000);
    expect(backoffMs(1, 1_200, policy, 0)).toBe(1_200);
    expect(backoffMs(1, 60_000, policy, 0)).toBe(8_000);
  });
});
