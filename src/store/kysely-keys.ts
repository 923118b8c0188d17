import type { Kysely, Selectable } from 'kysely';
import type { KeyType } from '../domain/api-key.js';
import type { KeyBilling, KeySpending } from '../domain/key-spending.js';
import type { LimitPeriod } from '../domain/periods.js';
import type { ApiKeyRecord, KeyStore, RevokeOutcome } from '../ports/keys.js';
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

function toRecord(row: Omit<Selectable<ApiKeysTable>, 'hash'>): ApiKeyRecord {
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
] as const;

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
      })
      .execute();
  }

  async listForAccount(accountId: string): Promise<ApiKeyRecord[]> {
    const rows = await this.db
      .selectFrom('api_keys')
      .select(RECORD_COLUMNS)
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  async find(keyId: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db
      .selectFrom('api_keys')
      .select(RECORD_COLUMNS)
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
