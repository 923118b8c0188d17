import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisMissing, startRedis } from '../../test/support/real-servers.js';
import type { Change } from '../ports/change-feed.js';
import { connectRedis, type RedisConnection } from '../redis/connect.js';
import { DEGRADED_FLUSH_MS } from './feed-listeners.js';
import { CHANGES_CHANNEL, RedisChangeFeed } from './redis-change-feed.js';

const skip = redisMissing();
if (skip) console.warn(`Skipping the Redis change feed tests: ${skip}`);

const quiet = { warn: () => {}, error: () => {} };
const revoked: Change = { scope: 'key', what: 'revoked', keyId: 'key_1', accountId: 'acct_1' };

/** One instance: its own connections to Redis, its feed, and what its caches were told. */
interface Instance {
  readonly redis: RedisConnection;
  readonly feed: RedisChangeFeed;
  readonly heard: { change: Change; at: number }[];
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.skipIf(skip)('the change feed over Redis', () => {
  let server: RedisServer;
  const instances: Instance[] = [];

  function instance(id: string): Instance {
    const redis = connectRedis(server.url);
    const feed = new RedisChangeFeed(redis, id, quiet);
    const heard: Instance['heard'] = [];
    feed.subscribe((change) => heard.push({ change, at: Date.now() }));
    const made = { redis, feed, heard };
    instances.push(made);
    return made;
  }

  const live = (i: Instance) => waitFor('the feed is live', () => (i.feed.isLive() ? true : undefined));

  beforeAll(async () => {
    server = await startRedis();
  });
  afterEach(async () => {
    for (const i of instances.splice(0)) {
      await i.feed.close();
      await i.redis.close();
    }
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('brings a change published by one instance to another within a second, and not back to itself', async () => {
    const a = instance('inst_a');
    const b = instance('inst_b');
    await Promise.all([live(a), live(b)]);
    a.heard.length = 0;
    b.heard.length = 0;
    const sent = Date.now();
    await a.feed.publish(revoked);
    const arrived = await waitFor('the revocation at B', () => b.heard.find((h) => h.change.scope === 'key'));
    expect(arrived.change).toEqual(revoked);
    expect(arrived.at - sent).toBeLessThan(1_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(a.heard).toEqual([]);
  });

  it('reads anything it does not recognise as "everything may have changed"', async () => {
    const b = instance('inst_b');
    await live(b);
    b.heard.length = 0;
    const publisher = connectRedis(server.url);
    try {
      await waitFor('publisher up', () => (publisher.isUp() ? true : undefined));
      await publisher.commands.publish(CHANGES_CHANNEL, 'not json');
      await publisher.commands.publish(
        CHANGES_CHANNEL,
        JSON.stringify({ origin: 'x', change: { scope: 'key' } }),
      );
      await waitFor('two changes', () => (b.heard.length >= 2 ? true : undefined));
      expect(b.heard.map((h) => h.change.scope)).toEqual(['everything', 'everything']);
    } finally {
      await publisher.close();
    }
  });

  it('while Redis is down, empties caches at once and twice a second; back up, once more, then only what changes', async () => {
    const a = instance('inst_a');
    const b = instance('inst_b');
    await Promise.all([live(a), live(b)]);
    b.heard.length = 0;
    const killed = Date.now();
    await server.kill();
    await waitFor('B degraded', () => (b.feed.isLive() ? undefined : true));
    await new Promise((resolve) => setTimeout(resolve, 3 * DEGRADED_FLUSH_MS + 100));
    const flushes = b.heard.filter((h) => h.change.scope === 'everything').map((h) => h.at);
    expect(flushes.length).toBeGreaterThanOrEqual(4);
    expect(flushes[0]! - killed).toBeLessThan(500);
    // No entry survives a second: no two flushes further apart than that.
    const gaps = flushes.slice(1).map((at, i) => at - flushes[i]!);
    expect(Math.max(...gaps)).toBeLessThan(1_000);

    // A change made while Redis is down: B learns of it when Redis is back (B empties its caches
    // then, whether or not the change is resent before B has subscribed again).
    await a.feed.publish(revoked);
    const restarted = Date.now();
    await server.restart();
    await Promise.all([live(a), live(b)]);
    expect(b.heard.some((h) => h.at >= restarted && h.change.scope !== 'account')).toBe(true);
    const backAt = Date.now();
    b.heard.length = 0;
    await new Promise((resolve) => setTimeout(resolve, 2 * DEGRADED_FLUSH_MS + 100));
    expect(b.heard.filter((h) => h.at >= backAt && h.change.scope === 'everything')).toEqual([]);
  });
});
