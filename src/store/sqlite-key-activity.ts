import type { Database as BetterSqlite, Statement } from 'better-sqlite3';
import type { KeyType } from '../domain/api-key.js';
import type { AccountStatus } from '../ports/accounts.js';
import type { CredentialLookup, KeyCredential, KeyUse, KeyUseSink } from '../ports/keys.js';
import type { DataVersionWatch } from './data-version-watch.js';

/** The key reads and writes of the request path, prepared once (see sqlite-ledger.ts for why not through Kysely). */
export class SqliteKeyActivity implements CredentialLookup, KeyUseSink {
  private readonly byHash: Statement<[string]>;
  private readonly touch: Statement<[number, string, string]>;

  private readonly touchAll: (uses: readonly KeyUse[]) => void;

  /**
   * Credentials by HMAC, so a request needs no database read. Emptied when another process commits
   * (DataVersionWatch) and by `forget()` after a change made in this process.
   */
  private readonly cache = new Map<string, KeyCredential>();

  constructor(
    db: BetterSqlite,
    private readonly watch: DataVersionWatch,
  ) {
    watch.onExternalChange(() => this.forget());
    this.touch = db.prepare('UPDATE api_keys SET last_used_at = ?, last_used_ip = ? WHERE id = ?');
    this.touchAll = db.transaction((uses: readonly KeyUse[]) => {
      for (const use of uses) this.touch.run(use.at, use.ip, use.keyId);
    });
    this.byHash = db.prepare(
      `SELECT k.id AS key_id, k.account_id, k.type, k.hash, k.revoked_at, a.status
         FROM api_keys k JOIN accounts a ON a.id = k.account_id
        WHERE k.hash = ?`,
    );
  }

  /** Drops every cached credential: after a revocation, a suspension, or any other key change. */
  forget(): void {
    this.cache.clear();
  }

  async findCredential(hash: string): Promise<KeyCredential | undefined> {
    this.watch.check();
    const cached = this.cache.get(hash);
    if (cached) return cached;
    const found = this.read(hash);
    // Unknown hashes are not cached: a flood of made-up keys must not grow memory.
    if (found) this.cache.set(hash, found);
    return found;
  }

  private read(hash: string): KeyCredential | undefined {
    const row = this.byHash.get(hash) as
      | {
          key_id: string;
          account_id: string;
          type: KeyType;
          hash: string;
          revoked_at: number | null;
          status: AccountStatus;
        }
      | undefined;
    if (!row) return undefined;
    return {
      keyId: row.key_id,
      accountId: row.account_id,
      type: row.type,
      hash: row.hash,
      revoked: row.revoked_at !== null,
      accountStatus: row.status,
    };
  }

  async recordUses(uses: readonly KeyUse[]): Promise<void> {
    if (uses.length > 0) this.touchAll(uses);
  }
}
