import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  type PostgresServer,
  postgresMissing,
  startPostgres,
} from '../../test/support/real-servers.js';
import { LedgerUnavailableError } from './postgres-ledger.js';
import { databaseUnavailable } from './store-unavailable.js';

const skip = postgresMissing();

/** The error a promise rejects with (the test fails if it resolves). */
async function failureOf(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('which errors mean the database cannot be used', () => {
  it('a fenced ledger is told apart from an unreachable database', () => {
    expect(databaseUnavailable(new LedgerUnavailableError('fenced'))).toBe('instance_fenced');
    expect(databaseUnavailable(new Error('wrapped', { cause: new LedgerUnavailableError('fenced') }))).toBe(
      'instance_fenced',
    );
  });

  it('a bug is not an outage', () => {
    expect(databaseUnavailable(new TypeError('x is undefined'))).toBeUndefined();
    expect(databaseUnavailable('a string')).toBeUndefined();
    expect(databaseUnavailable(undefined)).toBeUndefined();
  });
});

describe.skipIf(skip !== undefined)(
  skip ? `PostgreSQL's own errors (skipped: ${skip})` : "PostgreSQL's own errors",
  () => {
    let postgres: PostgresServer;

    beforeAll(async () => {
      postgres = await startPostgres();
    }, 60_000);
    afterAll(async () => {
      await postgres?.stop();
    });

    it('nothing listening on the port: unreachable', async () => {
      const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/x` });
      try {
        expect(databaseUnavailable(await failureOf(pool.query('SELECT 1')))).toBe('database_unreachable');
      } finally {
        await pool.end();
      }
    });

    it('a session the server ends mid-query (a restart, a failover): unreachable', async () => {
      const victim = new pg.Client({ connectionString: postgres.url });
      victim.on('error', () => {});
      await victim.connect();
      const admin = new pg.Client({ connectionString: postgres.url });
      await admin.connect();
      try {
        const { rows } = await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const sleeping = failureOf(victim.query('SELECT pg_sleep(10)'));
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        expect(databaseUnavailable(await sleeping)).toBe('database_unreachable');
        // And the client it leaves behind.
        expect(databaseUnavailable(await failureOf(victim.query('SELECT 1')))).toBe('database_unreachable');
      } finally {
        await admin.end();
        await victim.end().catch(() => {});
      }
    });

    it('a statement the database refuses is not an outage', async () => {
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      try {
        expect(databaseUnavailable(await failureOf(client.query('SELEC 1')))).toBeUndefined();
        expect(databaseUnavailable(await failureOf(client.query('SELECT 1/0')))).toBeUndefined();
      } finally {
        await client.end();
      }
    });
  },
);
