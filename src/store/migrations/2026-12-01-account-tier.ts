import type { Kysely } from 'kysely';

/**
 * An account's own tier (`tollgate accounts set-tier`), beside its plan's and the default. Null
 * for every existing account: they keep running under their plan's tier or the default. Frozen in
 * time (Kysely<any>), through the schema builder only, so that SQLite and PostgreSQL both run it.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('tier', 'text').execute();
}
