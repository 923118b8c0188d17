import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe } from 'vitest';
import { type OpenDatabase, openPostgres, openSqlite } from '../../src/store/open-database.js';
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
 * A PostgreSQL server for this test file, with a migrated template: each new database is a copy
 * of it (CREATE DATABASE … TEMPLATE), which costs a fraction of migrating an empty one.
 */
async function templatedServer(): Promise<{ server: PostgresServer; copy(): Promise<string> }> {
  const server = await startPostgres();
  const template = `tollgate_template_${process.pid}`;
  const templateUrl = await server.createDatabase(template);
  // Migrated, then closed: PostgreSQL copies a template only while nobody is connected to it.
  await (await openPostgres(templateUrl, 1)).close();
  let copies = 0;
  return {
    server,
    async copy() {
      const name = `${template}_copy_${++copies}`;
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
      } finally {
        await admin.end();
      }
      const url = new URL(server.url);
      url.pathname = `/${name}`;
      return url.toString();
    },
  };
}

/** Shared by every suite of a test file (vitest gives each file its own copy of this module). */
let postgres: ReturnType<typeof templatedServer> | undefined;

/**
 * SQLite in memory, and PostgreSQL: one real server per test file, started on first use and
 * stopped after the file's tests, with a fresh database for each `open()`. Call at the top level
 * of a test file (it registers the server's afterAll there).
 */
export function storeKinds(): StoreKind[] {
  afterAll(async () => {
    const started = postgres;
    postgres = undefined;
    if (started) await (await started).server.stop();
  });
  const skip = postgresMissing();
  return [
    { name: 'sqlite', open: () => openSqlite(':memory:') },
    {
      name: 'postgres',
      ...(skip === undefined ? {} : { skip }),
      open: async () => {
        postgres ??= templatedServer();
        return openPostgres(await (await postgres).copy(), 4);
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
