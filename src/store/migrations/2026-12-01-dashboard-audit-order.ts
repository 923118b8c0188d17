import { type Kysely, sql } from 'kysely';
import type { DatabaseKind } from '../database-kind.js';

/**
 * The order audit events were written in, as a column: several events of one millisecond (a
 * removal and the sessions it ends) must list in that order, and only SQLite has a rowid to tell
 * it. On PostgreSQL an identity column numbers them; on SQLite existing rows take their rowid and
 * a trigger gives each new row its own, so the store writes the same INSERT on both.
 * Frozen in time like every migration (Kysely<any>).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time.
export async function up(db: Kysely<any>, kind: DatabaseKind): Promise<void> {
  if (kind === 'postgres') {
    await sql`ALTER TABLE audit_events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY`.execute(db);
    return;
  }
  // Kysely runs SQLite migrations outside a transaction: all three statements or none.
  await db.transaction().execute(async (trx) => {
    await sql`ALTER TABLE audit_events ADD COLUMN seq INTEGER`.execute(trx);
    await sql`UPDATE audit_events SET seq = rowid`.execute(trx);
    await sql`CREATE TRIGGER audit_events_seq AFTER INSERT ON audit_events FOR EACH ROW WHEN NEW.seq IS NULL
      BEGIN UPDATE audit_events SET seq = NEW.rowid WHERE rowid = NEW.rowid; END`.execute(trx);
  });
}
