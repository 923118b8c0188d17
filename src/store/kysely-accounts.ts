import type { Kysely } from 'kysely';
import type { Account, AccountStatus, AccountStore } from '../ports/accounts.js';
import type { AccountsTable, Database } from './tables.js';

function toAccount(row: AccountsTable): Account {
  return {
    id: row.id,
    email: row.email,
    status: row.status as AccountStatus,
    availableMicros: Number(row.available_micros),
    createdAt: Number(row.created_at),
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
}
