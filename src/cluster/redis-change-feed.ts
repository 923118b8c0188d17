import { type Change, type ChangeFeed, EVERYTHING, parseChange } from '../ports/change-feed.js';
import type { RedisConnection } from '../redis/connect.js';
import { FeedListeners } from './feed-listeners.js';

export const CHANGES_CHANNEL = 'tollgate:changes';
/** Changes that could not be sent, resent when Redis answers again; beyond this, "everything". */
const MAX_UNSENT = 1_000;
/** A process that has just started (the CLI) waits this long for its first connection to Redis. */
const FIRST_CONNECT_WAIT_MS = 2_000;

interface Envelope {
  readonly origin: string;
  readonly change: Change;
}

export interface FeedLog {
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

/**
 * Changes over Redis pub/sub, one channel for every instance. Pub/sub delivers to whoever is
 * subscribed and keeps nothing, so whenever the subscription may have had a gap (Redis down or
 * unreachable) the caches are emptied instead (see FeedListeners).
 */
export class RedisChangeFeed implements ChangeFeed {
  private readonly listeners: FeedListeners;
  private unsent: Change[] = [];
  private listening = false;
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly instanceId: string,
    private readonly log: FeedLog,
  ) {
    this.listeners = new FeedListeners((error) =>
      log.error({ err: error }, 'a cache failed to forget a change'),
    );
    // Unsent changes go out when Redis answers again, whether or not this process listens.
    redis.on('up', () => this.resendUnsent());
  }

  /** The first call opens the subscribing connection: the CLI only publishes. */
  subscribe(listener: (change: Change) => void): void {
    this.listeners.add(listener);
    if (this.listening) return;
    this.listening = true;
    const subscriber = this.redis.subscriber();
    subscriber.on('message', (_channel: string, message: string) => this.receive(message));
    this.redis.on('down', () => this.listeners.setLive(false));
    this.redis.on('up', () => this.resumed());
    if (this.redis.isUp()) this.resumed();
  }

  /** Whether changes from other instances are arriving (for tests and health). */
  isLive(): boolean {
    return this.listeners.isLive();
  }

  async publish(change: Change): Promise<void> {
    const sent = this.send(change);
    this.sending.add(sent);
    try {
      await sent;
    } finally {
      this.sending.delete(sent);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.sending]);
    this.listeners.close();
    if (this.unsent.length > 0)
      this.log.warn(
        { changes: this.unsent.length },
        'Redis was unreachable: other instances learn of these changes when their caches expire',
      );
  }

  /**
   * One attempt, nothing kept: whether Redis took the change. For a feed that has another way to
   * send it (fallback-change-feed.ts), which calls `keepUnsent` if that fails too.
   */
  async publishOnce(change: Change): Promise<boolean> {
    if (this.redis.state() === 'starting') await this.firstAttempt();
    try {
      await this.redis.commands.publish(CHANGES_CHANNEL, JSON.stringify(this.envelope(change)));
      return true;
    } catch {
      return false;
    }
  }

  /** Keeps a change that could not be sent, to send it when Redis answers again. */
  keepUnsent(change: Change): void {
    this.unsent = this.unsent.length < MAX_UNSENT ? [...this.unsent, change] : [EVERYTHING];
  }

  private async send(change: Change): Promise<void> {
    if (!(await this.publishOnce(change))) this.keepUnsent(change);
  }

  private envelope(change: Change): Envelope {
    return { origin: this.instanceId, change };
  }

  private firstAttempt(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.redis.off('up', done);
        this.redis.off('down', done);
        resolve();
      };
      const timer = setTimeout(done, FIRST_CONNECT_WAIT_MS);
      this.redis.on('up', done);
      this.redis.on('down', done);
    });
  }

  /**
   * Live again only once our own SUBSCRIBE is answered: the resubscription ioredis sends on
   * reconnect is not confirmed to anyone, and a change published before it takes effect is lost.
   */
  private resumed(): void {
    this.redis
      .subscriber()
      .subscribe(CHANGES_CHANNEL)
      .then(
        () => {
          if (this.redis.isUp()) this.listeners.setLive(true);
        },
        () => {
          // The connection went down again; its next `up` retries.
        },
      );
  }

  private resendUnsent(): void {
    const unsent = this.unsent;
    this.unsent = [];
    for (const change of unsent) void this.publish(change);
  }

  private receive(message: string): void {
    let envelope: Partial<Envelope>;
    try {
      envelope = JSON.parse(message) as Partial<Envelope>;
    } catch {
      envelope = {};
    }
    if (envelope.origin === this.instanceId) return;
    this.listeners.deliver(parseChange(envelope.change));
  }
}
