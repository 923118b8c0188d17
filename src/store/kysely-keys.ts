import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { KeyType } from '../domain/api-key.js';
import type { KeyBilling, KeySpending } from '../domain/key-spending.js';
import type { LimitPeriod } from '../domain/periods.js';
import type { ApiKeyRecord, KeyRotation, KeySpendReader, KeyStore, RevokeOutcome } from '../ports/keys.js';
import type { ApiKeysTable, Database } from './tables.js';

/** A key's spending settings as stored: billing mode, overflow flag, optional limit and its period. */
export function spendingOf(row: {
  billing: string;
  overflow: number;
  limit_micros: number | null;
  limit_period: string | null;
}): KeySpending {
  return {
    billing: row.billing as KeyBilling,
    overflow: row.overflow === 1,
    limit:
      row.limit_micros === null || row.limit_period === null
        ? undefined
        : { micros: Number(row.limit_micros), period: row.limit_period as LimitPeriod },
  };
}

function spendingColumns(spending: KeySpending) {
  return {
    billing: spending.billing,
    overflow: spending.overflow ? 1 : 0,
    limit_micros: spending.limit?.micros ?? null,
    limit_period: spending.limit?.period ?? null,
  };
}

/** The stored JSON array of an allow-list; null (every address) reads as empty. */
export function allowlistOf(text: string | null): string[] {
  if (text === null) return [];
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) ? parsed.filter((e): e is string => typeof e === 'string') : [];
}

type KeyRow = Omit<Selectable<ApiKeysTable>, 'hash'> & { previous_valid_until: number | null };

function toRecord(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    type: row.type as KeyType,
    hint: row.hint,
    spending: spendingOf(row),
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    lastUsedIp: row.last_used_ip,
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    ipAllowlist: allowlistOf(row.ip_allowlist),
    createdBy: row.created_by,
    rotatedAt: row.rotated_at === null ? null : Number(row.rotated_at),
    previousValidUntil: row.previous_valid_until === null ? null : Number(row.previous_valid_until),
  };
}

const RECORD_COLUMNS = [
  'id',
  'account_id',
  'name',
  'type',
  'hint',
  'billing',
  'overflow',
  'limit_micros',
  'limit_period',
  'created_at',
  'last_used_at',
  'last_used_ip',
  'revoked_at',
  'ip_allowlist',
  'created_by',
  'rotated_at',
] as const;

/** The latest expiry of the key's replaced secrets; the list shows it while it is in the future. */
const PREVIOUS_VALID_UNTIL = sql<
  number | null
>`(SELECT MAX(p.valid_until) FROM api_key_previous_hashes p WHERE p.key_id = api_keys.id)`.as(
  'previous_valid_until',
);

/** A rotation that keeps losing the race to others is refused after this many reads. */
const ROTATION_ATTEMPTS = 5;

async function rotateOnce(
  trx: Transaction<Database>,
  rotation: KeyRotation,
): Promise<'rotated' | 'not-live' | 'raced'> {
  const current = await trx
    .selectFrom('api_keys')
    .select('hash')
    .where('id', '=', rotation.keyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!current) return 'not-live';
  const replaced = await trx
    .updateTable('api_keys')
    .set({ hash: rotation.newHash, hint: rotation.hint, rotated_at: rotation.now })
    .where('id', '=', rotation.keyId)
    .where('hash', '=', current.hash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (replaced.numUpdatedRows !== 1n) return 'raced';
  await trx
    .insertInto('api_key_previous_hashes')
    .values({ hash: current.hash, key_id: rotation.keyId, valid_until: rotation.previousValidUntil })
    .execute();
  return 'rotated';
}

export class KyselyKeyStore implements KeyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(key: ApiKeyRecord & { readonly hash: string }): Promise<void> {
    await this.db
      .insertInto('api_keys')
      .values({
        id: key.id,
        account_id: key.accountId,
        name: key.name,
        type: key.type,
        hash: key.hash,
        hint: key.hint,
        ...spendingColumns(key.spending),
        created_at: key.createdAt,
        last_used_at: key.lastUsedAt,
        last_used_ip: key.lastUsedIp,
        revoked_at: key.revokedAt,
        ip_allowlist: key.ipAllowlist.length === 0 ? null : JSON.stringify(key.ipAllowlist),
        created_by: key.createdBy,
        rotated_at: key.rotatedAt,
      })
      .execute();
  }

  async listForAccount(accountId: string): Promise<ApiKeyRecord[]> {
    const rows = await this.db
      .selectFrom('api_keys')
      .select([...RECORD_COLUMNS, PREVIOUS_VALID_UNTIL])
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  async find(keyId: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db
      .selectFrom('api_keys')
      .select([...RECORD_COLUMNS, PREVIOUS_VALID_UNTIL])
      .where('id', '=', keyId)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async updateSpending(keyId: string, spending: KeySpending): Promise<boolean> {
    const result = await this.db
      .updateTable('api_keys')
      .set(spendingColumns(spending))
      .where('id', '=', keyId)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async updateDetails(
    keyId: string,
    details: { name?: string; ipAllowlist?: readonly string[] },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('api_keys')
      .set({
        ...(details.name === undefined ? {} : { name: details.name }),
        ...(details.ipAllowlist === undefined
          ? {}
          : { ip_allowlist: details.ipAllowlist.length === 0 ? null : JSON.stringify(details.ipAllowlist) }),
      })
      .where('id', '=', keyId)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async rotate(rotation: KeyRotation): Promise<boolean> {
    // Two rotations at once (two instances, or the CLI beside the dashboard) both happen, one after
    // the other, as they do on SQLite, which runs one writer at a time. On PostgreSQL the second
    // waits for the first's row lock, then finds the secret it read already replaced: it reads again.
    for (let attempt = 0; attempt < ROTATION_ATTEMPTS; attempt++) {
      const outcome = await this.db.transaction().execute((trx) => rotateOnce(trx, rotation));
      if (outcome !== 'raced') return outcome === 'rotated';
    }
    return false;
  }

  async revoke(keyId: string, now: number): Promise<RevokeOutcome> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: now })
      .where('id', '=', keyId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (result.numUpdatedRows === 1n) return 'revoked';
    const exists = await this.db
      .selectFrom('api_keys')
      .select('id')
      .where('id', '=', keyId)
      .executeTakeFirst();
    return exists ? 'already-revoked' : 'not-found';
  }
}

/** A key's spend in a window: what its requests held in the window were charged, every pool together. */
export class KyselyKeySpend implements KeySpendReader {
  constructor(private readonly db: Kysely<Database>) {}

  async spent(accountId: string, keyId: string, from: number, until: number): Promise<number> {
    const row = await this.db
      .selectFrom('ledger_entries')
      .select(sql<number>`COALESCE(-SUM(amount_micros), 0)`.as('spent'))
      .where('account_id', '=', accountId)
      .where('key_id', '=', keyId)
      .where('kind', '=', 'settle')
      .where('period_at', '>=', from)
      .where('period_at', '<', until)
      .executeTakeFirst();
    return Number(row?.spent ?? 0);
  }
}
