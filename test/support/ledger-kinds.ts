import { sql } from 'kysely';
import { afterEach, beforeEach, describe } from 'vitest';
import { newId } from '../../src/crypto/system.js';
import type { Ledger } from '../../src/ports/ledger.js';
import { DataVersionWatch } from '../../src/store/data-version-watch.js';
import type { OpenDatabase } from '../../src/store/open-database.js';
import { PostgresLedger } from '../../src/store/postgres-ledger.js';
import { SqliteLedger } from '../../src/store/sqlite-ledger.js';
import { TEST_ACCOUNT } from './ledger-fixture.js';
import { storeKinds } from './stores.js';

export interface LedgerUnderTest {
  readonly kind: 'sqlite' | 'postgres';
  readonly database: OpenDatabase;
  readonly ledger: Ledger;
  /** What the ledger reported as refused rows (SQLite's group commit logs them). */
  readonly logged: string[];
  /** Writes whatever the ledger still holds back, so that the database can be read directly. */
  settled(): void;
}

/** Creates the test account, with nothing on it, as the CLI would. */
export async function insertAccount(database: OpenDatabase, id = TEST_ACCOUNT): Promise<void> {
  await database.db
    .insertInto('accounts')
    .values({
      id,
      email: `${id}@example.com`,
      status: 'active',
      available_micros: 0,
      created_at: Date.now(),
      auto_topup_enabled: 0,
      auto_topup_threshold_micros: 0,
      auto_topup_amount_micros: 0,
    })
    .execute();
}

/** A PostgreSQL ledger as an instance runs it: registered and heartbeating. */
export async function startedPostgresLedger(
  database: OpenDatabase,
  options: { timeoutMs?: number; longestRequestMs?: number; logged?: string[] } = {},
): Promise<PostgresLedger> {
  if (database.kind !== 'postgres') throw new Error('a PostgreSQL ledger needs PostgreSQL');
  const ledger = new PostgresLedger(database.pg, (prefix) => newId(prefix), {
    instanceId: newId('inst'),
    timings: { timeoutMs: options.timeoutMs ?? 30_000, longestRequestMs: options.longestRequestMs ?? 1_000 },
    log: { error: (_details, message) => options.logged?.push(message) },
  });
  await ledger.start();
  return ledger;
}

/**
 * The same ledger suite on SQLite and PostgreSQL, each on a fresh database with the test account.
 * Call at the top level of a test file.
 */
export function describeLedgers(title: string, suite: (under: () => LedgerUnderTest) => void): void {
  describe.each(storeKinds())(`${title} on $name`, (kind) => {
    describe.skipIf(kind.skip !== undefined)(kind.skip ? `skipped: ${kind.skip}` : 'contract', () => {
      let current: (LedgerUnderTest & { close(): Promise<void> }) | undefined;
      beforeEach(async () => {
        const database = await kind.open();
        await insertAccount(database);
        const logged: string[] = [];
        if (database.kind === 'sqlite') {
          const ledger = new SqliteLedger(
            database.sqlite,
            new DataVersionWatch(database.sqlite),
            (prefix) => newId(prefix),
            undefined,
            { error: (_details, message) => logged.push(message) },
          );
          current = {
            kind: 'sqlite',
            database,
            ledger,
            logged,
            settled: () => ledger.flush(),
            close: async () => {
              ledger.flush();
              await database.close();
            },
          };
        } else {
          const ledger = await startedPostgresLedger(database, { logged });
          current = {
            kind: 'postgres',
            database,
            ledger,
            logged,
            settled: () => {},
            close: async () => {
              await ledger.close();
              await database.close();
            },
          };
        }
      });
      afterEach(async () => {
        await current?.close();
        current = undefined;
      });
      suite(() => {
        if (!current) throw new Error('the ledger is made for each test');
        return current;
      });
    });
  });
}

/** Makes the database refuse usage records whose user agent is 'poison', whatever the dialect. */
export async function refusePoisonedRecords(database: OpenDatabase): Promise<void> {
  if (database.kind === 'sqlite') {
    database.sqlite.exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON usage_records
      WHEN NEW.user_agent = 'poison' BEGIN SELECT RAISE(ABORT, 'refused for the test'); END`);
    return;
  }
  await sql`CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.user_agent = 'poison' THEN RAISE EXCEPTION 'refused for the test'; END IF;
      RETURN NEW;
    END $$`.execute(database.db);
  await sql`CREATE TRIGGER refuse_poison BEFORE INSERT ON usage_records
    FOR EACH ROW EXECUTE FUNCTION refuse_poison()`.execute(database.db);
}
