import { Redis } from 'ioredis';

/**
 * One Redis server as Tollgate's pieces share it (the change feed, rate limits): connected in the
 * background so that start-up never waits for Redis nor fails without it, reconnected with backoff
 * for as long as the process lives, and watched, so that callers can tell whether Redis answers
 * right now and fall back to what one instance can do alone when it does not.
 *
 * `commands` serves ordinary commands. `subscriber()` is a second connection, opened on first
 * use, because a connection in subscriber mode serves nothing else.
 */
export interface RedisConnection {
  /** For commands. While Redis is down, commands fail at once instead of queueing (see below). */
  readonly commands: Redis;
  /** A connection for SUBSCRIBE, opened on first call; its subscriptions are renewed on reconnect. */
  subscriber(): Redis;
  /** Whether every connection opened so far is ready and answered its last heartbeat. */
  isUp(): boolean;
  /** `starting` until the first attempt to connect has ended, one way or the other. */
  state(): 'starting' | 'up' | 'down';
  /**
   * `up` and `down` fire once per transition. The first is `up` after the first successful
   * connect, or `down` when the first attempt fails (Redis unreachable at start-up).
   */
  on(event: 'up' | 'down', listener: () => void): void;
  off(event: 'up' | 'down', listener: () => void): void;
  close(): Promise<void>;
}

export interface RedisConnectionOptions {
  /** Shown in `CLIENT LIST` to tell Tollgate's connections apart (`tollgate-<instance>`). */
  readonly name?: string;
  /** How often a PING checks a connection that may be silently gone (no FIN, a hung server). */
  readonly heartbeatMs?: number;
  /**
   * Give up on a connect or a command after this long. Small: Redis answers in well under a
   * millisecond when it is healthy, and a request must not wait for one that is not.
   */
  readonly timeoutMs?: number;
}

/** Exponential, from 50 ms to 2 s, with jitter so that instances do not reconnect in lockstep. */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(2_000, 50 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + random() * 0.5));
}

const HEARTBEAT_MS = 250;
const TIMEOUT_MS = 500;

export function connectRedis(url: string, options: RedisConnectionOptions = {}): RedisConnection {
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  const timeoutMs = options.timeoutMs ?? TIMEOUT_MS;
  const listeners = { up: new Set<() => void>(), down: new Set<() => void>() };
  const open = (role: string, forSubscribing: boolean) =>
    new Redis(url, {
      lazyConnect: true,
      connectionName: options.name ? `${options.name}-${role}` : undefined,
      connectTimeout: timeoutMs,
      // A socket left from a refused attempt is waited on this long at close (ioredis: 2 s), which
      // held the CLI's exit when Redis was unreachable.
      disconnectTimeout: timeoutMs,
      retryStrategy: (attempt) => reconnectDelayMs(attempt),
      // Commands fail fast while Redis is down, so that their callers fall back at once; the
      // subscriber keeps its SUBSCRIBE queued until it reconnects.
      enableOfflineQueue: forSubscribing,
      maxRetriesPerRequest: forSubscribing ? null : 0,
      commandTimeout: forSubscribing ? undefined : timeoutMs,
      // RESP2: its subscriber mode is the one every Redis and compatible server speaks alike.
      protocol: 2,
    });

  const connections: Redis[] = [];
  const answering = new Map<Redis, boolean>();
  // Unknown until the first attempt ends, so that an unreachable Redis at start-up is reported too.
  let up: boolean | undefined;
  let closed = false;

  const settle = () => {
    if (closed) return;
    // A connection still on its first attempt counts once that attempt ends, so that opening the
    // subscriber does not make a healthy Redis blink down.
    const known = connections.filter((c) => answering.has(c));
    if (known.length === 0) return;
    const now = known.every((c) => c.status === 'ready' && answering.get(c) === true);
    if (now === up) return;
    up = now;
    for (const listener of [...listeners[now ? 'up' : 'down']]) listener();
  };

  const watch = (connection: Redis) => {
    connections.push(connection);
    connection.on('ready', () => {
      answering.set(connection, true);
      settle();
    });
    for (const event of ['close', 'end', 'reconnecting'] as const)
      connection.on(event, () => {
        answering.set(connection, false);
        settle();
      });
    // Without a listener, ioredis prints every failed reconnect; `down` already says it once.
    connection.on('error', () => {});
    connection.connect().catch(() => {
      // The retry strategy keeps trying; the failure shows as `down`.
    });
  };

  // A PING on a silent connection: a killed server closes the socket at once, but a hung one or
  // a lost network path does not, and only a command that goes unanswered shows it.
  const heartbeat = setInterval(() => {
    for (const connection of connections) {
      if (connection.status !== 'ready') continue;
      const timer = setTimeout(() => {
        answering.set(connection, false);
        settle();
      }, timeoutMs);
      connection
        .ping()
        .then(
          () => answering.set(connection, true),
          () => answering.set(connection, false),
        )
        .finally(() => {
          clearTimeout(timer);
          settle();
        });
    }
  }, heartbeatMs);
  heartbeat.unref();

  const commands = open('commands', false);
  watch(commands);
  let subscriber: Redis | undefined;

  return {
    commands,
    subscriber() {
      if (!subscriber) {
        subscriber = open('subscriber', true);
        watch(subscriber);
      }
      return subscriber;
    },
    isUp: () => up === true,
    state: () => (up === undefined ? 'starting' : up ? 'up' : 'down'),
    on(event, listener) {
      listeners[event].add(listener);
    },
    off(event, listener) {
      listeners[event].delete(listener);
    },
    async close() {
      closed = true;
      clearInterval(heartbeat);
      listeners.up.clear();
      listeners.down.clear();
      up = false;
      await Promise.all(
        connections.map((c) =>
          c.status === 'ready'
            ? c.quit().then(
                () => undefined,
                () => c.disconnect(),
              )
            : c.disconnect(),
        ),
      );
    },
  };
}
