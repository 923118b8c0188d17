import type pg from 'pg';
import { postgresPool } from '../../src/store/postgres-pool.js';

/** A pool that counts the statements its connections send: one a round trip. */
export function countingPool(url: string, size: number): { pool: pg.Pool; sent: () => number } {
  const pool = postgresPool(url, size);
  let count = 0;
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      count++;
      return query(...args);
    };
  });
  return { pool, sent: () => count };
}
