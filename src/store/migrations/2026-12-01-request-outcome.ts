import { type Kysely, sql } from 'kysely';

/**
 * How each request ended (RequestOutcome in ports/ledger.ts): completed, failed mid-stream, closed
 * by the client, or failed before anything was relayed. Earlier rows are classified from their
 * status, which is all they recorded: a 200 was taken as complete. Frozen in time (Kysely<any>).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('usage_records')
    .addColumn('outcome', 'text', (c) => c.notNull().defaultTo('completed'))
    .execute();
  await sql`UPDATE usage_records SET outcome = CASE
      WHEN status = 200 THEN 'completed'
      WHEN status = 499 THEN 'client_closed'
      WHEN cost_micros = 0 THEN 'failed'
      ELSE 'failed_mid_stream' END`.execute(db);
}
