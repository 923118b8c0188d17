import { afterAll, afterEach, beforeEach, describe } from 'vitest';
import { type OpenDatabase, openDatabase, openSqlite } from '../../src/store/open-database.js';
import { type PostgresServer, postgresMissing, startPostgres } from './real-servers.js';

/** One of the databases every store is tested on. */
export interface StoreKind {
  readonly name: 'sqlite' | 'postgres';
  /** A new, empty, migrated database. */
  open(): Promise<OpenDatabase>;
  /** Why this kind cannot run here (PostgreSQL not installed), if it cannot. */
  readonly skip?: string;
}

/**
 * SQLite in memory, and PostgreSQL: one real server per test file, started on first use and
 * stopped after the file's tests, with a fresh database for each `open()`. Call at the top level
 * of a test file (it registers the server's afterAll there).
 */
export function storeKinds(): StoreKind[] {
  let server: Promise<PostgresServer> | undefined;
  afterAll(async () => {
    if (server) await (await server).stop();
  });
  const skip = postgresMissing();
  return [
    { name: 'sqlite', open: () => openSqlite(':memory:') },
    {
      name: 'postgres',
      ...(skip === undefined ? {} : { skip }),
      open: async () => {
        server ??= startPostgres();
        const url = await (await server).createDatabase();
        return openDatabase({ kind: 'postgres', url, poolSize: 4 });
      },
    },
  ];
}

/**
 * The same suite on every store kind: `database()` is a fresh, migrated database in each test.
 * A kind that cannot run here is skipped, with its reason in the suite's name.
 */
export function describeStores(title: string, suite: (database: () => OpenDatabase) => void): void {
  describe.each(storeKinds())(`${title} on $name`, (kind) => {
    describe.skipIf(kind.skip !== undefined)(kind.skip ? `skipped: ${kind.skip}` : 'contract', () => {
      let opened: OpenDatabase | undefined;
      beforeEach(async () => {
        opened = await kind.open();
      });
      afterEach(async () => {
        await opened?.close();
        opened = undefined;
      });
      suite(() => {
        if (!opened) throw new Error('the database is opened for each test');
        return opened;
      });
    });
  });
}
