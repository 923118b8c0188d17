import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, postgresMissing, startPostgres } from '../../test/support/real-servers.js';
import { type OpenDatabase, openPostgres } from './open-database.js';

const skip = postgresMissing();

describe.skipIf(skip)('a PostgreSQL database', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(() => server?.stop());

  const open = (url: string) => openPostgres(url, 3);

  async function tables(url: string): Promise<string[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      );
      return rows.map((row) => row.name);
    } finally {
      await client.end();
    }
  }

  it('gets every migration on an empty database, and is ready', async () => {
    const url = await server.createDatabase();
    const database = await open(url);
    try {
      expect(await tables(url)).toEqual([
        'accounts',
        'api_key_previous_hashes',
        'api_keys',
        'audit_events',
        'invites',
        'kysely_migration',
        'kysely_migration_lock',
        'ledger_entries',
        'ledger_holds',
        'ledger_instances',
        'ledger_tallies',
        'memberships',
        'rate_limits',
        'sessions',
        'settlement_journal',
        'subscriptions',
        'topup_requests',
        'usage_records',
        'user_tokens',
        'users',
      ]);
      expect(await database.ready()).toEqual({ ok: true });
    } finally {
      await database.close();
    }
  });

  it('reads money and times as numbers, a debt below zero included', async () => {
    const database = await open(await server.createDatabase());
    try {
      const large = 2 ** 53 - 1;
      await database.db
        .insertInto('accounts')
        .values({
          id: 'acct_1',
          email: 'debt@example.com',
          status: 'active',
          available_micros: -5_000,
          created_at: large,
          auto_topup_enabled: 0,
          auto_topup_threshold_micros: 0,
          auto_topup_amount_micros: 0,
        })
        .execute();
      const row = await database.db
        .selectFrom('accounts')
        .select(['available_micros', 'created_at'])
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ available_micros: -5_000, created_at: large });
      const { rows } = await database.pg.query<{ total: unknown }>(
        'SELECT SUM(available_micros) AS total FROM accounts',
      );
      expect(rows[0]?.total).toBe(-5_000);
    } finally {
      await database.close();
    }
  });

  it('lets instances that start together on an empty database each apply the migrations once', async () => {
    const url = await server.createDatabase();
    const instances = await Promise.all([open(url), open(url), open(url)]);
    try {
      for (const instance of instances) expect(await instance.ready()).toEqual({ ok: true });
      const applied = await instances[0]?.pg.query<{ name: string; times: number }>(
        'SELECT name, COUNT(*)::int AS times FROM kysely_migration GROUP BY name',
      );
      expect(applied?.rows.length).toBeGreaterThan(0);
      for (const row of applied?.rows ?? []) expect(row.times).toBe(1);
    } finally {
      await Promise.all(instances.map((instance) => instance.close()));
    }
  });

  it('is not ready while the database refuses connections, and says why', async () => {
    const name = `refusing_${process.pid}`;
    const url = await server.createDatabase(name);
    let database: OpenDatabase | undefined = await open(url);
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
      // Terminated backends exit on their own time: wait (bounded) until none is left.
      for (let i = 0; i < 50; i++) {
        const left = await admin.query('SELECT 1 FROM pg_stat_activity WHERE datname = $1', [name]);
        if (left.rows.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const readiness = await database.ready();
      expect(readiness.ok).toBe(false);
      if (!readiness.ok) {
        expect(readiness.reason).toMatch(/^the database did not answer/);
        expect(readiness.reason).not.toContain(server.password);
      }
      await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      // A connection the pool had not yet seen die may fail one more check; then it reconnects.
      let again = await database.ready();
      for (let i = 0; i < 5 && !again.ok; i++) again = await database.ready();
      expect(again).toEqual({ ok: true });
      await database.close();
      database = undefined;
    } finally {
      await admin.end();
      await database?.close();
    }
  });
});
