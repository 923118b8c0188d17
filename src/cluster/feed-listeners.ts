import { type Change, EVERYTHING } from '../ports/change-feed.js';

/**
 * How often caches are emptied while a feed cannot deliver. Half a second, so that an entry read
 * just before a change (a read in flight when the timer fires) is still gone within one second.
 */
export const DEGRADED_FLUSH_MS = 500;

/**
 * The subscribers of one feed, and what they are told when the feed's server goes away: no
 * message can be trusted to arrive then, so caches are emptied at once and every half second,
 * and once more when the server returns (whatever was sent meanwhile is lost).
 */
export class FeedListeners {
  private readonly listeners: ((change: Change) => void)[] = [];
  private live = false;
  private flushing: NodeJS.Timeout | undefined;

  constructor(private readonly onListenerError: (error: unknown) => void) {
    // Degraded until the feed first connects: a server that never appears must not freeze caches.
    this.startFlushing();
  }

  add(listener: (change: Change) => void): void {
    this.listeners.push(listener);
  }

  deliver(change: Change): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  setLive(live: boolean): void {
    if (live === this.live) return;
    this.live = live;
    this.deliver(EVERYTHING);
    if (live) this.stopFlushing();
    else this.startFlushing();
  }

  isLive(): boolean {
    return this.live;
  }

  close(): void {
    this.stopFlushing();
    this.listeners.length = 0;
  }

  private startFlushing(): void {
    this.stopFlushing();
    this.flushing = setInterval(() => this.deliver(EVERYTHING), DEGRADED_FLUSH_MS);
    this.flushing.unref();
  }

  private stopFlushing(): void {
    if (this.flushing) clearInterval(this.flushing);
    this.flushing = undefined;
  }
}
