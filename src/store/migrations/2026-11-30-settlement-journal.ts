import type { Kysely } from 'kysely';

/**
 * How far the settlement journal (settlement-journal.ts) has been applied: one row, updated in the
 * same transaction as the journaled batches it covers, so that replaying the journal after a crash
 * applies each batch exactly once. Frozen in time like every migration (Kysely<any>).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('settlement_journal')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('applied_seq', 'bigint', (c) => c.notNull())
    .execute();
  await db.insertInto('settlement_journal').values({ id: 1, applied_seq: 0 }).execute();
}
