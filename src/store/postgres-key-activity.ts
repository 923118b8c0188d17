import type pg from 'pg';
import { type Change, type ForgetfulCache, touches } from '../ports/change-feed.js';
import type { CredentialLookup, IpAllowlists, KeyCredential, KeyUse, KeyUseSink } from '../ports/keys.js';
import { type CredentialRow, credentialOf, credentialQuery } from './credential-row.js';

/** Named, so that each pooled connection prepares them once and then only binds the hash. */
const BY_HASH: pg.QueryConfig<[string]> = {
  name: 'tollgate_credential_by_hash',
  text: credentialQuery('api_keys k', 'k.hash = $1', 'NULL::bigint'),
};
const BY_PREVIOUS_HASH: pg.QueryConfig<[string]> = {
  name: 'tollgate_credential_by_previous_hash',
  text: credentialQuery(
    'api_key_previous_hashes p JOIN api_keys k ON k.id = p.key_id',
    'p.hash = $1',
    'p.valid_until',
  ),
};
/**
 * A batch of last uses in one statement. An instance whose batch arrives late (several instances
 * write for the same key) never moves a key's last use backwards.
 */
const TOUCH_ALL = {
  name: 'tollgate_touch_keys',
  text: `UPDATE api_keys k SET last_used_at = u.at, last_used_ip = u.ip
           FROM unnest($1::text[], $2::bigint[], $3::text[]) AS u(id, at, ip)
          WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`,
};

/** Without a change feed, how long a cached credential is believed before it is read again. */
export const DEFAULT_CREDENTIAL_CACHE_MS = 1_000;

export interface PostgresKeyActivityOptions {
  /**
   * How long a cached credential is used before the database is asked again: the longest a
   * change made elsewhere (another instance, the CLI) can go unseen when no change feed calls
   * `forget()`. A feed that delivers every change may lengthen it.
   */
  readonly cacheMs?: number;
  readonly now?: () => number;
}

/**
 * The request path's key reads and writes on PostgreSQL, the counterpart of SqliteKeyActivity:
 * credentials by HMAC from a cache, and last uses written in batches. PostgreSQL has no
 * data_version to watch, so the cache is emptied by `forget()` (changes in this process, and the
 * change feed for other instances) and each entry also expires after `cacheMs`.
 */
export class PostgresKeyActivity implements CredentialLookup, KeyUseSink, ForgetfulCache {
  private readonly cache = new Map<string, { credential: KeyCredential; readAt: number }>();
  /** Told of each lookup, hit or miss (metrics count them). */
  onLookup: (hit: boolean) => void = () => {};
  /** Bumped by forget(): a read that began before it must not refill the cache with what it saw. */
  private generation = 0;
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly allowlists: IpAllowlists,
    options: PostgresKeyActivityOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? DEFAULT_CREDENTIAL_CACHE_MS;
    this.now = options.now ?? Date.now;
  }

  /** Drops every cached credential: after a revocation, a suspension, or any other key change. */
  forget(): void {
    this.generation++;
    this.cache.clear();
  }

  /** Drops the credentials a change concerns; the rest stay cached. */
  forgetChange(change: Change): void {
    if (change.scope === 'everything') {
      this.forget();
      return;
    }
    this.generation++;
    for (const [hash, entry] of this.cache) if (touches(change, entry.credential)) this.cache.delete(hash);
  }

  async findCredential(hash: string): Promise<KeyCredential | undefined> {
    const now = this.now();
    const cached = this.cache.get(hash);
    const fresh = cached !== undefined && now - cached.readAt < this.cacheMs;
    this.onLookup(fresh);
    if (fresh) return cached.credential;
    const generation = this.generation;
    const found = await this.read(hash);
    // Unknown hashes are not cached: a flood of made-up keys must not grow memory.
    if (found && generation === this.generation) this.cache.set(hash, { credential: found, readAt: now });
    else if (!found) this.cache.delete(hash);
    return found;
  }

  private async read(hash: string): Promise<KeyCredential | undefined> {
    const current = await this.pool.query<CredentialRow, [string]>({ ...BY_HASH, values: [hash] });
    const row =
      current.rows[0] ??
      (await this.pool.query<CredentialRow, [string]>({ ...BY_PREVIOUS_HASH, values: [hash] })).rows[0];
    return row ? credentialOf(row, hash, this.allowlists) : undefined;
  }

  async recordUses(uses: readonly KeyUse[]): Promise<void> {
    if (uses.length === 0) return;
    await this.pool.query({
      ...TOUCH_ALL,
      values: [uses.map((u) => u.keyId), uses.map((u) => u.at), uses.map((u) => u.ip)],
    });
  }
}
