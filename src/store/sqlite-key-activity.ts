import type { Database as BetterSqlite, Statement } from 'better-sqlite3';
import type { KeyType } from '../domain/api-key.js';
import type { AccountStatus } from '../ports/accounts.js';
import type { CredentialLookup, KeyCredential, KeyUse, KeyUseSink } from '../ports/keys.js';
import type { GroupCommit } from './group-commit.js';

/** The key reads and writes of the request path, prepared once (see sqlite-ledger.ts for why not through Kysely). */
export class SqliteKeyActivity implements CredentialLookup, KeyUseSink {
  private readonly byHash: Statement<[string]>;
  private readonly touch: Statement<[number, string, string]>;

  constructor(
    db: BetterSqlite,
    private readonly writes: GroupCommit,
  ) {
    this.touch = db.prepare('UPDATE api_keys SET last_used_at = ?, last_used_ip = ? WHERE id = ?');
    this.byHash = db.prepare(
      `SELECT k.id AS key_id, k.account_id, k.type, k.hash, k.revoked_at, a.status
         FROM api_keys k JOIN accounts a ON a.id = k.account_id
        WHERE k.hash = ?`,
    );
  }

  async findCredential(hash: string): Promise<KeyCredential | undefined> {
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
    this.writes.run(() => {
      for (const use of uses) this.touch.run(use.at, use.ip, use.keyId);
    });
  }
}
