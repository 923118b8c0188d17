import { type Kysely, sql } from 'kysely';
import type { DatabaseKind } from '../database-kind.js';

/**
 * The ledger shared by several instances on PostgreSQL (postgres-ledger.ts): open holds as rows
 * (so that a crashed instance's can be returned), per-pool tallies kept in the same transactions
 * (so that a hold reads a few rows rather than summing the ledger), and the instances' heartbeats.
 * The SQLite ledger keeps all three in memory and leaves these tables empty. Both dialects get the
 * one unique index the money needs: at most one pending auto top-up per account.
 * Frozen in time like every migration (Kysely<any>).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time.
export async function up(db: Kysely<any>, kind?: DatabaseKind): Promise<void> {
  await db.schema
    .createTable('ledger_instances')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    // The database's own clock, so that instances' clocks never have to agree.
    .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
    // How long after its last heartbeat the instance's holds and leases may be returned: its own
    // silence allowance plus the longest request it may still be serving (ledger-instance.ts).
    .addColumn('expires_after_ms', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('ledger_holds')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('placed_at', 'bigint', (c) => c.notNull())
    .addColumn('amount_micros', 'bigint', (c) => c.notNull())
    // Each pool's part, NULL when the hold did not draw on it (a part of 0 still counts a request).
    .addColumn('prepaid_micros', 'bigint')
    .addColumn('subscription_micros', 'bigint')
    .addColumn('agent_micros', 'bigint')
    // The parts in waterfall order and the spend scope, as JSON: what a settlement needs.
    .addColumn('parts', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ledger_holds_account').on('ledger_holds').column('account_id').execute();
  await db.schema.createIndex('ledger_holds_instance').on('ledger_holds').column('instance_id').execute();

  // One row per account and figure: 'held' (prepaid credit held), 'agent_held' (Pro chat quota
  // held, and how many requests), 'subscription' and 'key:<id>' per period window. Each figure
  // includes the holds in flight placed in its window.
  await db.schema
    .createTable('ledger_tallies')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('window_from', 'bigint', (c) => c.notNull())
    .addColumn('window_until', 'bigint', (c) => c.notNull())
    .addColumn('used_micros', 'bigint', (c) => c.notNull())
    .addColumn('requests', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('ledger_tallies_pk', ['account_id', 'scope', 'window_from', 'window_until'])
    .execute();

  await db.schema
    .createIndex('topup_requests_one_pending')
    .on('topup_requests')
    .column('account_id')
    .unique()
    .where(sql<boolean>`status = 'pending'`)
    .execute();

  // Several instances write entries: a duplicate id is refused rather than counted twice. (SQLite
  // has one writer, whose ids are unique by construction, and keeps its inserts cheap.)
  // On PostgreSQL the entries also get a sequence: SQLite's rowid orders them there.
  if (kind === 'postgres') {
    await db.schema.createIndex('ledger_entries_id').on('ledger_entries').column('id').unique().execute();
    await sql`ALTER TABLE ledger_entries ADD COLUMN seq bigserial`.execute(db);
    // SQLite's INTEGER is 64-bit, and a usage record's counts are written as any safe integer
    // (row-values.ts): PostgreSQL's 32-bit integer would refuse the row instead.
    await sql`ALTER TABLE usage_records
      ALTER COLUMN prompt_tokens TYPE bigint, ALTER COLUMN completion_tokens TYPE bigint,
      ALTER COLUMN status TYPE bigint, ALTER COLUMN latency_ms TYPE bigint,
      ALTER COLUMN cache_read_tokens TYPE bigint, ALTER COLUMN cache_write_tokens TYPE bigint`.execute(db);
  }
}
