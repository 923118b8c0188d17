import type { Kysely } from 'kysely';
import type { KeyType } from '../domain/api-key.js';
import type { ApiKeyRecord, KeyStore, RevokeOutcome } from '../ports/keys.js';
import type { Database } from './tables.js';

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
      .select([
        'id',
        'account_id',
        'name',
        'type',
        'hint',
        'created_at',
        'last_used_at',
        'last_used_ip',
        'revoked_at',
      ])
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      accountId: row.account_id,
      name: row.name,
      type: row.type as KeyType,
      hint: row.hint,
      createdAt: Number(row.created_at),
      lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
      lastUsedIp: row.last_used_ip,
      revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    }));
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
