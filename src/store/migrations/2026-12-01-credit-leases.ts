import type { Kysely } from 'kysely';

/**
 * Credit leases (store/postgres-leases.ts): a lease is a `ledger_holds` row of its instance, so
 * that the tallies, the key limit and every other instance count it, and the sweeper returns a
 * crashed instance's leases as it returns its holds. `lease_state` is NULL for a hold; for a lease
 * 'open' (its owner holds against it), 'recalled' (another instance needs the room: the owner
 * returns the unused part) or 'retired' (it reserves only its owner's holds still in flight).
 * SQLite decides in one process and never leases: the column stays empty there.
 * Frozen in time like every migration (Kysely<any>).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('ledger_holds').addColumn('lease_state', 'text').execute();
}
