import type { Change, ChangeFeed, ForgetfulCache } from '../ports/change-feed.js';

/**
 * The one way a committed change reaches the caches: this process's forget it before the change is
 * answered, and the feed tells every other process (other instances, or the server when the CLI
 * made the change). What the feed brings from elsewhere is forgotten the same way.
 */
export class ChangeAnnouncer {
  constructor(
    private readonly feed: ChangeFeed,
    private readonly caches: readonly ForgetfulCache[],
  ) {
    feed.subscribe((change) => this.forget(change));
  }

  async announce(change: Change): Promise<void> {
    this.forget(change);
    await this.feed.publish(change);
  }

  private forget(change: Change): void {
    for (const cache of this.caches) cache.forgetChange(change);
  }
}

/** What services call after a change is committed. */
export type AnnounceChange = (change: Change) => Promise<void>;
export const announceNothing: AnnounceChange = async () => {};
