import type { Change, ChangeFeed } from '../ports/change-feed.js';
import type { PgNotifyChangeFeed } from './pg-notify-change-feed.js';
import type { RedisChangeFeed } from './redis-change-feed.js';

/**
 * Redis first, PostgreSQL's NOTIFY when Redis does not take the change: on PostgreSQL with Redis,
 * a process that cannot reach Redis while the servers can (the CLI on an operator's machine, one
 * instance cut off from Redis) still tells every instance within a second, instead of leaving
 * their caches to expire. Servers listen on both; a change travels over one of them only.
 *
 * While either listening connection is down its half-second emptying of the caches applies
 * (FeedListeners): a change sent over the other could be the one missed.
 */
export class FallbackChangeFeed implements ChangeFeed {
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly redis: RedisChangeFeed,
    private readonly notify: PgNotifyChangeFeed,
  ) {}

  subscribe(listener: (change: Change) => void): void {
    this.redis.subscribe(listener);
    this.notify.subscribe(listener);
  }

  /** Whether changes from every other process are arriving, on both ways they may come. */
  isLive(): boolean {
    return this.redis.isLive() && this.notify.isLive();
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
    await Promise.all([this.redis.close(), this.notify.close()]);
  }

  private async send(change: Change): Promise<void> {
    if (await this.redis.publishOnce(change)) return;
    if (await this.notify.publishOnce(change)) return;
    // Neither took it: Redis sends it when it answers again, and close() says it never went.
    this.redis.keepUnsent(change);
  }
}
