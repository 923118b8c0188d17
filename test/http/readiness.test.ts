import SqliteDatabase from 'better-sqlite3';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readinessRoute } from '../../src/http/operations.js';
import { openSqlite } from '../../src/store/open-database.js';
import { type Harness, startHarness } from '../support/harness.js';

/** /healthz says the process is alive; /readyz says it can serve: database reachable, schema current. */
describe('/readyz on SQLite', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { TOLLGATE_INSTANCE_ID: 'pod-a.1' } });
  });
  afterAll(() => h.close());

  const get = (url: string) => h.tollgate.app.inject({ method: 'GET', url });

  it('answers 200 when the database answers and every migration is applied', async () => {
    const ready = await get('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
    expect((await get('/healthz')).json()).toEqual({ status: 'ok' });
  });

  it('answers 503 naming the migration the database lacks, and 200 again once it is there', async () => {
    const other = new SqliteDatabase(h.databaseFile);
    const row = other
      .prepare("SELECT name, timestamp FROM kysely_migration WHERE name = '2026-12-01-dashboard'")
      .get() as { name: string; timestamp: string };
    other.prepare('DELETE FROM kysely_migration WHERE name = ?').run(row.name);
    try {
      const notReady = await get('/readyz');
      expect(notReady.statusCode).toBe(503);
      expect(notReady.json()).toEqual({
        status: 'not_ready',
        reason: 'migrations not applied: 2026-12-01-dashboard',
      });
      // Alive all the same: a load balancer stops sending traffic, a supervisor does not restart it.
      expect((await get('/healthz')).statusCode).toBe(200);
    } finally {
      other
        .prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)')
        .run(row.name, row.timestamp);
      other.close();
    }
    expect((await get('/readyz')).statusCode).toBe(200);
  });

  it('puts the instance id in every log line', async () => {
    await get('/readyz');
    const lines = h.logs.flatMap((chunk) => chunk.split('\n')).filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ instance: 'pod-a.1' });
    expect(h.tollgate.instanceId).toBe('pod-a.1');
  });
});

describe('an instance without TOLLGATE_INSTANCE_ID', () => {
  it('makes up a random id of its own, different at each start', async () => {
    const first = await startHarness();
    const second = await startHarness();
    try {
      expect(first.tollgate.instanceId).toMatch(/^inst_/);
      expect(second.tollgate.instanceId).not.toBe(first.tollgate.instanceId);
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe('/readyz once the database is closed', () => {
  it('answers 503 with the reason', async () => {
    const database = await openSqlite(':memory:');
    const app = Fastify();
    readinessRoute(app, () => database.ready());
    try {
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      await database.close();
      const closed = await app.inject({ method: 'GET', url: '/readyz' });
      expect(closed.statusCode).toBe(503);
      expect(closed.json()).toEqual({
        status: 'not_ready',
        reason: expect.stringMatching(/^the database did not answer/),
      });
    } finally {
      await app.close();
    }
  });
});
