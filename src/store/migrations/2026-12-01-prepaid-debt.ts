import { type Kysely, sql } from 'kysely';
import type { DatabaseKind } from '../database-kind.js';

const NON_NEGATIVE_BALANCE = /\s+check\s*\(\s*"?available_micros"?\s*>=\s*0\s*\)/i;

/**
 * A prepaid balance may go below zero: a settlement charges what the provider reported, even above
 * its hold, and the debt is paid by the next credits. SQLite cannot drop a CHECK constraint, so the
 * accounts table is rebuilt without it (SQLite's own recipe: foreign keys off outside the
 * transaction; new table, copy, drop, rename; indexes again; foreign_key_check; commit). The new
 * table is created from the old one's own SQL minus the constraint, so that columns added since
 * are kept as they are. PostgreSQL drops the constraint in place, inside the transaction its
 * migrations run in. Usage records gain `over_hold`: the charge passed the hold.
 * Frozen in time like every migration (Kysely<any>).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time.
export async function up(db: Kysely<any>, kind: DatabaseKind): Promise<void> {
  if (kind === 'postgres') {
    // The name PostgreSQL gave the initial migration's column constraint.
    await sql`ALTER TABLE accounts DROP CONSTRAINT accounts_available_micros_check`.execute(db);
    await addOverHold(db);
    return;
  }
  const { rows } = await sql<{ foreign_keys: number }>`PRAGMA foreign_keys`.execute(db);
  const foreignKeys = rows[0]?.foreign_keys === 1;
  // A no-op inside a transaction, so it is set before; while it is off, dropping the old table
  // leaves the rows that reference it alone.
  if (foreignKeys) await sql`PRAGMA foreign_keys = OFF`.execute(db);
  try {
    await db.transaction().execute(async (trx) => {
      const table = await sql<{ sql: string }>`
        SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'accounts'`.execute(trx);
      const created = table.rows[0]?.sql ?? '';
      if (!NON_NEGATIVE_BALANCE.test(created))
        throw new Error(`accounts: expected the non-negative balance constraint in ${created}`);
      const indexes = await sql<{ sql: string }>`
        SELECT sql FROM sqlite_master
         WHERE type = 'index' AND tbl_name = 'accounts' AND sql IS NOT NULL`.execute(trx);
      const rebuilt = created
        .replace(NON_NEGATIVE_BALANCE, '')
        .replace(/^create table\s+"?accounts"?/i, 'CREATE TABLE "accounts_rebuilt"');
      await sql.raw(rebuilt).execute(trx);
      await sql`INSERT INTO accounts_rebuilt SELECT * FROM accounts`.execute(trx);
      await sql`DROP TABLE accounts`.execute(trx);
      await sql`ALTER TABLE accounts_rebuilt RENAME TO accounts`.execute(trx);
      for (const index of indexes.rows) await sql.raw(index.sql).execute(trx);
      const broken = await sql`PRAGMA foreign_key_check`.execute(trx);
      if (broken.rows.length > 0)
        throw new Error(`rebuilding accounts broke ${broken.rows.length} foreign key reference(s)`);
      await addOverHold(trx);
    });
  } finally {
    if (foreignKeys) await sql`PRAGMA foreign_keys = ON`.execute(db);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time.
async function addOverHold(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('usage_records')
    .addColumn('over_hold', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
