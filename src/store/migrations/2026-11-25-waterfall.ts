import { type Kysely, sql } from 'kysely';

/**
 * Subscriptions, per-key billing settings and spend limits, pools on the ledger, auto top-up.
 * Frozen in time like every migration (Kysely<any>).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time.
export async function up(db: Kysely<any>): Promise<void> {
  // How each key spends: its billing mode, whether it may overflow into prepaid credit, its own limit.
  await db.schema
    .alterTable('api_keys')
    .addColumn('billing', 'text', (c) => c.notNull().defaultTo('prepaid'))
    .execute();
  await db.schema
    .alterTable('api_keys')
    .addColumn('overflow', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('api_keys').addColumn('limit_micros', 'bigint').execute();
  await db.schema.alterTable('api_keys').addColumn('limit_period', 'text').execute();

  await db.schema
    .alterTable('accounts')
    .addColumn('auto_topup_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('accounts')
    .addColumn('auto_topup_threshold_micros', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('accounts')
    .addColumn('auto_topup_amount_micros', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  // Every entry belongs to a pool. `period_at` is when the request's hold was placed: the period or
  // window its charge counts in, even when the request settles after a boundary.
  await db.schema
    .alterTable('ledger_entries')
    .addColumn('pool', 'text', (c) => c.notNull().defaultTo('prepaid'))
    .execute();
  await db.schema.alterTable('ledger_entries').addColumn('key_id', 'text').execute();
  await db.schema.alterTable('ledger_entries').addColumn('period_at', 'bigint').execute();
  await sql`UPDATE ledger_entries SET period_at = created_at`.execute(db);
  // One index serves every read: an account's entries, and a pool's spend in a period.
  await db.schema.dropIndex('ledger_entries_account').execute();
  await db.schema
    .createIndex('ledger_entries_account_pool')
    .on('ledger_entries')
    .columns(['account_id', 'pool', 'period_at'])
    .execute();

  await db.schema
    .alterTable('usage_records')
    .addColumn('pools', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();

  await db.schema
    .createTable('subscriptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('plan_id', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('canceled_at', 'bigint')
    .execute();
  // At most one live subscription of each kind per account.
  await db.schema
    .createIndex('subscriptions_live')
    .on('subscriptions')
    .columns(['account_id', 'kind'])
    .unique()
    .where(sql.ref('canceled_at'), 'is', null)
    .execute();

  await db.schema
    .createTable('topup_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('amount_micros', 'bigint', (c) => c.notNull())
    .addColumn('balance_micros', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('topup_requests_account')
    .on('topup_requests')
    .columns(['account_id', 'status'])
    .execute();
}
