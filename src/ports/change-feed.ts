/**
 * What changed, as every instance must learn it quickly: a revoked key must stop working everywhere
 * within a second. Services announce a change after it is committed; every instance's caches drop
 * what it names (or everything, for a cache that cannot tell).
 */
export type Change =
  | {
      readonly scope: 'key';
      readonly what: 'changed' | 'revoked' | 'rotated';
      readonly keyId: string;
      readonly accountId: string;
    }
  | {
      readonly scope: 'account';
      readonly what: 'suspended' | 'reactivated' | 'changed' | 'subscription' | 'tier';
      readonly accountId: string;
    }
  /** Changes may have been missed (the feed was down): whatever is cached may be stale. */
  | { readonly scope: 'everything'; readonly what: 'missed' };

export const EVERYTHING: Change = { scope: 'everything', what: 'missed' };

/** Carries changes between the processes that share one database. */
export interface ChangeFeed {
  /** Tells every other instance. Never rejects: a change that cannot be sent is retried or logged. */
  publish(change: Change): Promise<void>;
  /**
   * Changes announced by other processes, and `everything` whenever some may have been missed.
   * While the feed cannot deliver (its server is down), `everything` comes twice a second, so that
   * no cache serves an entry older than a second.
   */
  subscribe(listener: (change: Change) => void): void;
  close(): Promise<void>;
}

/** A cache that forgets what a change names; one that cannot tell forgets everything. */
export interface ForgetfulCache {
  forgetChange(change: Change): void;
}

/** Whether a change concerns a cached entry that belongs to `keyId` of `accountId`. */
export function touches(change: Change, entry: { keyId: string; accountId: string }): boolean {
  if (change.scope === 'everything') return true;
  if (change.scope === 'account') return change.accountId === entry.accountId;
  return change.keyId === entry.keyId;
}

/** A feed for one process alone (SQLite, whose DataVersionWatch sees the CLI's commits). */
export const noChangeFeed: ChangeFeed = {
  publish: async () => {},
  subscribe: () => {},
  close: async () => {},
};

/** Reads a change from the wire; anything unrecognised counts as "everything may have changed". */
export function parseChange(value: unknown): Change {
  if (typeof value !== 'object' || value === null) return EVERYTHING;
  const v = value as Record<string, unknown>;
  const text = (x: unknown) => typeof x === 'string' && x.length > 0 && x.length <= 200;
  if (v.scope === 'key' && text(v.keyId) && text(v.accountId) && typeof v.what === 'string')
    return value as Change;
  if (v.scope === 'account' && text(v.accountId) && typeof v.what === 'string') return value as Change;
  return EVERYTHING;
}
