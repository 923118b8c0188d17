import pg from 'pg';

const INT8 = 20;
const NUMERIC = 1700;

/**
 * Money and times are bigint columns: micro-USD and epoch milliseconds both fit in 2^53, so they
 * are read as numbers, like SQLite gives them. A value past that range is a bug or corruption and
 * fails the query rather than being rounded.
 */
function exactNumber(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) && !(Number.isFinite(value) && !Number.isInteger(value)))
    throw new RangeError(`a database value outside the safe integer range: ${text}`);
  return value;
}

/** SUM over bigint gives numeric: read as a number too. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8 || oid === NUMERIC) return exactNumber;
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** A pool of `size` connections, reading bigint and numeric as numbers (without touching pg's global parsers). */
export function postgresPool(url: string, size: number, onIdleError?: (error: Error) => void): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: size, types });
  // A connection the server ended (a restart, a failover, an administrator): the pool drops it and
  // the next query connects anew; a query in flight on it fails on its own. pg emits the error on
  // the pool for an idle connection, and on the connection itself otherwise (a socket reset after
  // the server's farewell), where without a listener it would end the process.
  pool.on('error', (error) => onIdleError?.(error));
  pool.on('connect', (client) => client.on('error', (error) => onIdleError?.(error)));
  return pool;
}
