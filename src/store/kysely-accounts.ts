import type { Kysely } from 'kysely';
import type { AutoTopup } from '../domain/auto-topup.js';
import type { Account, AccountStatus, AccountStore, TopupRequest } from '../ports/accounts.js';
import type { AccountsTable, Database } from './tables.js';

function toAccount(row: AccountsTable): Account {
  return {
    id: row.id,
    email: row.email,
    status: row.status as AccountStatus,
    availableMicros: Number(row.available_micros),
    autoTopup: {
      enabled: row.auto_topup_enabled === 1,
      thresholdMicros: Number(row.auto_topup_threshold_micros),
      amountMicros: Number(row.auto_topup_amount_micros),
    },
    createdAt: Number(row.created_at),
    tier: row.tier,
  };
}

export class KyselyAccountStore implements AccountStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: { id: string; email: string; now: number }): Promise<Account | undefined> {
    const row = {
      id: input.id,
      email: input.email,
      status: 'active',
      available_micros: 0,
      created_at: input.now,
      auto_topup_enabled: 0,
      auto_topup_threshold_micros: 0,
      auto_topup_amount_micros: 0,
      tier: null,
    };
    const inserted = await this.db
      .insertInto('accounts')
      .values(row)
      .onConflict((oc) => oc.column('email').doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1 ? toAccount(row) : undefined;
  }

  async find(id: string): Promise<Account | undefined> {
    const row = await this.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toAccount(row) : undefined;
  }

  async setStatus(id: string, status: AccountStatus): Promise<boolean> {
    const result = await this.db
      .updateTable('accounts')
      .set({ status })
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async setTier(id: string, tier: string | null): Promise<boolean> {
    const result = await this.db
      .updateTable('accounts')
      .set({ tier })
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async setAutoTopup(id: string, settings: AutoTopup): Promise<boolean> {
    const result = await this.db
      .updateTable('accounts')
      .set({
        auto_topup_enabled: settings.enabled ? 1 : 0,
        auto_topup_threshold_micros: settings.thresholdMicros,
        auto_topup_amount_micros: settings.amountMicros,
      })
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async topupRequests(accountId: string): Promise<TopupRequest[]> {
    const rows = await this.db
      .selectFrom('topup_requests')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      accountId: row.account_id,
      amountMicros: Number(row.amount_micros),
      balanceMicros: Number(row.balance_micros),
      status: row.status as TopupRequest['status'],
      createdAt: Number(row.created_at),
    }));
  }
}
