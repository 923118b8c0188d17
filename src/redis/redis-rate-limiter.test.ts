import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisMissing, startRedis } from '../../test/support/real-servers.js';
import type { TierLimits } from '../domain/tiers.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import { FailoverRateLimiter } from '../rate-limits/failover-rate-limiter.js';
import { InMemoryRateLimiter } from '../rate-limits/in-memory-rate-limiter.js';
import { connectRedis, type RedisConnection } from './connect.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

const skip = redisMissing();
if (skip) console.warn(`Skipping the Redis rate limit tests: ${skip}`);

const LEASE_MS = 600_000;
let accounts = 0;
const newAccount = () => `acct_rl${++accounts}_${process.pid}`;

function until(connection: RedisConnection, event: 'up' | 'down', timeoutMs: number): Promise<void> {
  if ((event === 'up') === connection.isUp()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    const listener = () => {
      clearTimeout(timer);
      connection.off(event, listener);
      resolve();
    };
    connection.on(event, listener);
  });
}

async function admitMany(limiters: RateLimiter[], accountId: string, limits: TierLimits, count: number) {
  const decisions = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      limiters[i % limiters.length]!.admit({ accountId, limits, tokens: 1, leaseId: `lease_${i}` }),
    ),
  );
  return decisions.filter((d) => d.ok).length;
}

describe.skipIf(skip)('rate limits in Redis', () => {
  let server: RedisServer;
  let first: Redis;
  let second: Redis;
  let now = 1_764_576_000_000;
  const clock = { now: () => now };

  beforeAll(async () => {
    server = await startRedis();
    first = new Redis(server.url);
    second = new Redis(server.url);
  });
  afterAll(async () => {
    first?.disconnect();
    second?.disconnect();
    await server?.stop();
  });

  it('shares one limit between two instances: of 40 requests at once, exactly the limit is admitted', async () => {
    const a = new RedisRateLimiter(first, clock, LEASE_MS);
    const b = new RedisRateLimiter(second, clock, LEASE_MS);
    const limits = { requestsPerMinute: 15, tokensPerMinute: undefined, concurrentRequests: undefined };
    expect(await admitMany([a, b], newAccount(), limits, 40)).toBe(15);
  });

  it('shares the concurrent limit, frees a place when its request ends, and lets a crashed instance’s place lapse', async () => {
    const a = new RedisRateLimiter(first, clock, LEASE_MS);
    const b = new RedisRateLimiter(second, clock, LEASE_MS);
    const accountId = newAccount();
    const limits = { requestsPerMinute: undefined, tokensPerMinute: undefined, concurrentRequests: 2 };
    const admit = (limiter: RateLimiter, leaseId: string) =>
      limiter.admit({ accountId, limits, tokens: 1, leaseId });
    expect((await admit(a, 'one')).ok).toBe(true);
    expect((await admit(b, 'two')).ok).toBe(true);
    expect(await admit(b, 'three')).toMatchObject({ ok: false, exceeded: 'concurrent', retryAfterMs: 1000 });
    await a.end({ accountId, limits, leaseId: 'one', tokensDelta: 0 });
    expect((await admit(b, 'three')).ok).toBe(true);
    // Neither 'two' nor 'three' ever ends, as if their instance had crashed.
    expect((await admit(a, 'four')).ok).toBe(false);
    now += LEASE_MS;
    expect((await admit(a, 'four')).ok).toBe(true);
  });

  it('applies the same arithmetic as one instance in memory, step for step', async () => {
    const limits = { requestsPerMinute: 7, tokensPerMinute: 500, concurrentRequests: 2 };
    const step = fc.oneof(
      fc.record({ kind: fc.constant('admit' as const), tokens: fc.integer({ min: 1, max: 600 }) }),
      fc.record({ kind: fc.constant('end' as const), used: fc.integer({ min: 0, max: 200 }) }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 30_000 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 30 }), async (steps) => {
        const accountId = newAccount();
        const memory = new InMemoryRateLimiter(clock, LEASE_MS);
        const redis = new RedisRateLimiter(first, clock, LEASE_MS);
        const open: { leaseId: string; tokens: number }[] = [];
        let leases = 0;
        for (const s of steps) {
          if (s.kind === 'wait') now += s.ms;
          if (s.kind === 'admit') {
            const request = { accountId, limits, tokens: s.tokens, leaseId: `l${++leases}` };
            const [inMemory, inRedis] = [await memory.admit(request), await redis.admit(request)];
            expect(inRedis).toEqual(inMemory);
            if (inMemory.ok) open.push({ leaseId: request.leaseId, tokens: s.tokens });
          }
          if (s.kind === 'end' && open.length > 0) {
            const { leaseId, tokens } = open.shift()!;
            const ended = { accountId, limits, leaseId, tokensDelta: Math.min(s.used, tokens) - tokens };
            await memory.end(ended);
            await redis.end(ended);
          }
          expect(await redis.report(accountId, limits)).toEqual(await memory.report(accountId, limits));
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe.skipIf(skip)('rate limits while Redis is down', () => {
  let server: RedisServer;
  const logs: { level: string; message: string }[] = [];
  const log = {
    info: (_: Record<string, unknown>, message: string) => logs.push({ level: 'info', message }),
    warn: (_: Record<string, unknown>, message: string) => logs.push({ level: 'warn', message }),
  };
  const clock = { now: () => Date.now() };

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('falls back to each instance’s share of the limit when Redis dies, logs it once, and shares again once Redis is back', async () => {
    const connections = [connectRedis(server.url), connectRedis(server.url)];
    const limiters = connections.map(
      (c) =>
        new FailoverRateLimiter(
          new RedisRateLimiter(c.commands, clock, LEASE_MS),
          new InMemoryRateLimiter(clock, LEASE_MS),
          c,
          2,
          log,
        ),
    );
    const limits = { requestsPerMinute: 6, tokensPerMinute: undefined, concurrentRequests: undefined };
    try {
      await Promise.all(connections.map((c) => until(c, 'up', 5_000)));
      expect(await admitMany(limiters, newAccount(), limits, 20)).toBe(6);
      expect(logs).toEqual([]);

      await server.kill();
      await Promise.all(connections.map((c) => until(c, 'down', 5_000)));
      // Each of the 2 instances allows 6 / 2 = 3, so together still no more than the limit.
      const account = newAccount();
      expect(await admitMany([limiters[0]!], account, limits, 10)).toBe(3);
      expect(await admitMany([limiters[1]!], account, limits, 10)).toBe(3);
      const headers = await limiters[0]!.admit({ accountId: newAccount(), limits, tokens: 1, leaseId: 'x' });
      expect(headers.report.requests).toMatchObject({ limit: 3, remaining: 2 });
      expect(logs.filter((l) => l.level === 'warn')).toHaveLength(2);
      expect(logs[0]?.message).toContain('each enforces 1/2 of every tier limit until Redis answers');

      await server.restart();
      await Promise.all(connections.map((c) => until(c, 'up', 10_000)));
      expect(await admitMany(limiters, newAccount(), limits, 20)).toBe(6);
      expect(logs.filter((l) => l.level === 'info').map((l) => l.message)).toEqual([
        'rate limits shared through Redis again',
        'rate limits shared through Redis again',
      ]);
    } finally {
      await Promise.all(connections.map((c) => c.close()));
    }
  });

  it('frees a place whose request ended while Redis was gone once Redis is back, and still enforces the limit', async () => {
    const connection = connectRedis(server.url);
    const limiter = new FailoverRateLimiter(
      new RedisRateLimiter(connection.commands, clock, LEASE_MS),
      new InMemoryRateLimiter(clock, LEASE_MS),
      connection,
      1,
      log,
    );
    const accountId = newAccount();
    const limits = { requestsPerMinute: undefined, tokensPerMinute: undefined, concurrentRequests: 1 };
    const admit = (leaseId: string) => limiter.admit({ accountId, limits, tokens: 1, leaseId });
    const admin = new Redis(server.url);
    try {
      await until(connection, 'up', 5_000);
      expect((await admit('a')).ok).toBe(true);
      // Written to disk and read back at restart: Redis comes back holding request a's place, as a
      // persistent Redis or a network blip would.
      await admin.save();
      admin.disconnect();
      await server.kill();
      await until(connection, 'down', 5_000);
      await limiter.end({ accountId, limits, leaseId: 'a', tokensDelta: 0 });

      await server.restart();
      await until(connection, 'up', 10_000);
      // Without the kept end, b would wait for a's lease to lapse (LEASE_MS, ten minutes here).
      expect(await admit('b')).toMatchObject({ ok: true });
      expect(await admit('c')).toMatchObject({ ok: false, exceeded: 'concurrent' });
      await limiter.end({ accountId, limits, leaseId: 'b', tokensDelta: 0 });
      expect(await admit('d')).toMatchObject({ ok: true });
    } finally {
      admin.disconnect();
      await connection.close();
    }
  });

  it('never fails a request that ends while Redis is gone', async () => {
    const connection = connectRedis(server.url);
    const limiter = new FailoverRateLimiter(
      new RedisRateLimiter(connection.commands, clock, LEASE_MS),
      new InMemoryRateLimiter(clock, LEASE_MS),
      connection,
      2,
      log,
    );
    const accountId = newAccount();
    const limits = { requestsPerMinute: 10, tokensPerMinute: 100, concurrentRequests: 1 };
    try {
      await until(connection, 'up', 5_000);
      expect((await limiter.admit({ accountId, limits, tokens: 50, leaseId: 'a' })).ok).toBe(true);
      await server.kill();
      await expect(
        limiter.end({ accountId, limits, leaseId: 'a', tokensDelta: -40 }),
      ).resolves.toBeUndefined();
    } finally {
      await server.restart();
      await connection.close();
    }
  });
});
