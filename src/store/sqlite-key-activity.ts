import type { Database as BetterSqlite, Statement } from 'better-sqlite3';
import type { KeyType } from '../domain/api-key.js';
import type { Subscription } from '../domain/plans.js';
import type { AccountStatus } from '../ports/accounts.js';
import type { CredentialLookup, IpAllowlists, KeyCredential, KeyUse, KeyUseSink } from '../ports/keys.js';
import type { DataVersionWatch } from './data-version-watch.js';
import { allowlistOf, spendingOf } from './kysely-keys.js';

interface CredentialRow {
  key_id: string;
  account_id: string;
  type: KeyType;
  hash: string;
  revoked_at: number | null;
  status: AccountStatus;
  billing: string;
  overflow: number;
  limit_micros: number | null;
  limit_period: string | null;
  inference_plan: string | null;
  inference_since: number | null;
  chat_plan: string | null;
  chat_since: number | null;
  ip_allowlist: string | null;
  /** Set when the hash matched a secret a rotation replaced. */
  valid_until: number | null;
}

/** The account's live subscriptions come along, so that billing needs no second lookup. */
function credentialQuery(from: string, where: string, validUntil: string): string {
  return `SELECT k.id AS key_id, k.account_id, k.type, k.hash, k.revoked_at, a.status,
              k.billing, k.overflow, k.limit_micros, k.limit_period, k.ip_allowlist,
              si.plan_id AS inference_plan, si.started_at AS inference_since,
              sc.plan_id AS chat_plan, sc.started_at AS chat_since, ${validUntil} AS valid_until
         FROM ${from} JOIN accounts a ON a.id = k.account_id
         LEFT JOIN subscriptions si
           ON si.account_id = k.account_id AND si.kind = 'inference' AND si.canceled_at IS NULL
         LEFT JOIN subscriptions sc
           ON sc.account_id = k.account_id AND sc.kind = 'chat' AND sc.canceled_at IS NULL
        WHERE ${where}`;
}

function subscription(planId: string | null, since: number | null): Subscription | undefined {
  return planId === null || since === null ? undefined : { planId, startedAt: since };
}

/** The key reads and writes of the request path, prepared once (see sqlite-ledger.ts for why not through Kysely). */
export class SqliteKeyActivity implements CredentialLookup, KeyUseSink {
  private readonly byHash: Statement<[string]>;
  private readonly byPreviousHash: Statement<[string]>;
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
    const row = (this.byHash.get(hash) ?? this.byPreviousHash.get(hash)) as CredentialRow | undefined;
    if (!row) return undefined;
    const allowlist = allowlistOf(row.ip_allowlist);
    return {
      keyId: row.key_id,
      accountId: row.account_id,
      type: row.type,
      // A previous secret's row carries the key's current hash: the one it matched is this.
      hash: row.valid_until === null ? row.hash : hash,
      revoked: row.revoked_at !== null,
      accountStatus: row.status,
      spending: spendingOf(row),
      subscriptions: {
        inference: subscription(row.inference_plan, row.inference_since),
        chat: subscription(row.chat_plan, row.chat_since),
      },
      validUntil: row.valid_until === null ? undefined : Number(row.valid_until),
      allowlist: allowlist.length === 0 ? undefined : this.allowlists.compile(allowlist),
    };
  }

  async recordUses(uses: readonly KeyUse[]): Promise<void> {
    if (uses.length > 0) this.touchAll(uses);
  }
}
