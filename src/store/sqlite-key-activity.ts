import type { Database as BetterSqlite, Statement } from 'better-sqlite3';
import { type Change, type ForgetfulCache, touches } from '../ports/change-feed.js';
import type { CredentialLookup, IpAllowlists, KeyCredential, KeyUse, KeyUseSink } from '../ports/keys.js';
import { type CredentialRow, credentialOf, credentialQuery } from './credential-row.js';
import type { DataVersionWatch } from './data-version-watch.js';

/** The key reads and writes of the request path, prepared once (see sqlite-ledger.ts for why not through Kysely). */
export class SqliteKeyActivity implements CredentialLookup, KeyUseSink, ForgetfulCache {
  private readonly byHash: Statement<[string]>;
  private readonly byPreviousHash: Statement<[string]>;
  private readonly touch: Statement<[number, string, string]>;

  private readonly touchAll: (uses: readonly KeyUse[]) => void;

  /**
   * Credentials by HMAC, so a request needs no database read. Emptied when another process commits
   * (DataVersionWatch) and by `forget()` after a change made in this process.
   */
  private readonly cache = new Map<string, KeyCredential>();

  /** Told of each lookup, hit or miss (metrics count them). */
  onLookup: (hit: boolean) => void = () => {};

  constructor(
    db: BetterSqlite,
    private readonly watch: DataVersionWatch,
    private readonly allowlists: IpAllowlists,
  ) {
    watch.onExternalChange(() => this.forget());
    this.touch = db.prepare('UPDATE api_keys SET last_used_at = ?, last_used_ip = ? WHERE id = ?');
    this.touchAll = db.transaction((uses: readonly KeyUse[]) => {
      for (const use of uses) this.touch.run(use.at, use.ip, use.keyId);
    });
    this.byHash = db.prepare(credentialQuery('api_keys k', 'k.hash = ?', 'NULL'));
    // Only an unknown hash is looked up here: a rotated key's earlier secrets.
    this.byPreviousHash = db.prepare(
      credentialQuery(
        'api_key_previous_hashes p JOIN api_keys k ON k.id = p.key_id',
        'p.hash = ?',
        'p.valid_until',
      ),
    );
  }

  /** Drops every cached credential: after a revocation, a suspension, or any other key change. */
  forget(): void {
    this.cache.clear();
  }

  /** Drops the credentials a change concerns; the rest stay cached. */
  forgetChange(change: Change): void {
    if (change.scope === 'everything') {
      this.forget();
      return;
    }
    for (const [hash, credential] of this.cache) if (touches(change, credential)) this.cache.delete(hash);
  }

  async findCredential(hash: string): Promise<KeyCredential | undefined> {
    this.watch.check();
    const cached = this.cache.get(hash);
    this.onLookup(cached !== undefined);
    if (cached) return cached;
    const found = this.read(hash);
    // Unknown hashes are not cached: a flood of made-up keys must not grow memory.
    if (found) this.cache.set(hash, found);
    return found;
  }

  private read(hash: string): KeyCredential | undefined {
    const row = (this.byHash.get(hash) ?? this.byPreviousHash.get(hash)) as CredentialRow | undefined;
    return row ? credentialOf(row, hash, this.allowlists) : undefined;
  }

  async recordUses(uses: readonly KeyUse[]): Promise<void> {
    if (uses.length > 0) this.touchAll(uses);
  }
}
