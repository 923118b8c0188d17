import type { Kysely } from 'kysely';

/**
 * The prompt tokens a provider reported as read from or written to its cache, which it bills at
 * their own rates: with them, a usage record's cost can be recomputed from its tokens and the
 * served price. Both are parts of prompt_tokens. Frozen in time like every migration (Kysely<any>).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('usage_records')
    .addColumn('cache_read_tokens', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('usage_records')
    .addColumn('cache_write_tokens', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
