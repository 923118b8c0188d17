import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisMissing, startRedis } from '../../test/support/real-servers.js';
import { connectRedis, type RedisConnection, reconnectDelayMs } from './connect.js';

describe('reconnect delays', () => {
  it('grow from 50 ms to at most 2 s, with jitter of a quarter either way', () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => reconnectDelayMs(n, middle))).toEqual([
      50, 100, 200, 400, 800, 1600, 2000, 2000,
    ]);
    expect(reconnectDelayMs(20, () => 0)).toBe(1500);
    expect(reconnectDelayMs(20, () => 1)).toBe(2500);
  });
});

const skip = redisMissing();
if (skip) console.warn(`Skipping the Redis connection tests: ${skip}`);

function until(connection: RedisConnection, event: 'up' | 'down', timeoutMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    const listener = () => {
      clearTimeout(timer);
      connection.off(event, listener);
      resolve(Date.now() - started);
    };
    connection.on(event, listener);
  });
}

describe.skipIf(skip)('a shared Redis connection', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('connects in the background and says when it is up', async () => {
    const connection = connectRedis(redis.url, { name: 'test' });
    try {
      expect(connection.isUp()).toBe(false);
      await until(connection, 'up', 5_000);
      expect(connection.isUp()).toBe(true);
      expect(await connection.commands.ping()).toBe('PONG');
    } finally {
      await connection.close();
    }
  });

  it('says down within half a second of Redis dying, fails commands at once, and comes back by itself', async () => {
    const connection = connectRedis(redis.url);
    const subscriber = connection.subscriber();
    const received: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => received.push(message));
    try {
      await until(connection, 'up', 5_000);
      await subscriber.subscribe('test-channel');
      // Heartbeats on the subscribing connection are answered too: no flapping.
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(connection.isUp()).toBe(true);
      const down = until(connection, 'down', 5_000);
      await redis.kill();
      expect(await down).toBeLessThan(500);
      expect(connection.isUp()).toBe(false);
      const started = Date.now();
      await expect(connection.commands.get('anything')).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(100);

      const up = until(connection, 'up', 10_000);
      await redis.restart();
      await up;
      expect(connection.isUp()).toBe(true);
      // The subscription was renewed on the new server.
      for (let attempt = 0; attempt < 50 && received.length === 0; attempt++) {
        await connection.commands.publish('test-channel', 'after restart');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(received).toContain('after restart');
    } finally {
      await connection.close();
    }
  });

  it('says down when Redis is unreachable at start, and connects once it appears', async () => {
    await redis.kill();
    const connection = connectRedis(redis.url);
    try {
      await until(connection, 'down', 2_000);
      expect(connection.isUp()).toBe(false);
      const up = until(connection, 'up', 10_000);
      await redis.restart();
      await up;
      expect(connection.isUp()).toBe(true);
    } finally {
      await connection.close();
    }
  });

  it('does not blink down when the subscribing connection opens', async () => {
    const connection = connectRedis(redis.url);
    let downs = 0;
    connection.on('down', () => downs++);
    try {
      await until(connection, 'up', 5_000);
      await connection.subscriber().subscribe('another-channel');
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(downs).toBe(0);
      expect(connection.isUp()).toBe(true);
    } finally {
      await connection.close();
    }
  });
});
