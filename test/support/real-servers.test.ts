import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postgresMissing, redisMissing, startPostgres, startRedis } from './real-servers.js';

describe.skipIf(postgresMissing())('the PostgreSQL the tests start', () => {
  it('answers on loopback with a password, and gives each test a database of its own', async () => {
    const server = await startPostgres();
    try {
      const first = await server.createDatabase();
      const second = await server.createDatabase();
      expect(first).not.toBe(second);
      const client = new pg.Client({ connectionString: first });
      await client.connect();
      const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
      await client.end();
      expect(first.endsWith(`/${rows[0]?.db}`)).toBe(true);
      const wrong = new pg.Client({ connectionString: first.replace(server.password, 'wrong') });
      await expect(wrong.connect()).rejects.toThrow(/password/);
    } finally {
      await server.stop();
    }
  });
});

describe.skipIf(redisMissing())('the Redis the tests start', () => {
  it('can be killed and restarted on the same port', async () => {
    const server = await startRedis();
    try {
      await server.kill();
      await server.restart();
      expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    } finally {
      await server.stop();
    }
  });
});
