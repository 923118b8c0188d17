import type { Database as BetterSqlite } from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * Kysely prepares every query afresh; on the request path the same dozen statements run again and
 * again, so each is prepared once and reused. better-sqlite3 runs statements synchronously, so one
 * prepared statement is never used by two queries at once.
 */
const MAX_CACHED_STATEMENTS = 256;

export function withStatementCache(database: BetterSqlite): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(text: string): SqliteStatement {
      // Kysely opens a transaction with a plain BEGIN, which takes the write lock only at the first
      // write. If the server commits between a transaction's first read and its first write (the
      // CLI rotating a key while the server records that key's use), SQLite answers SQLITE_BUSY at
      // once, without waiting for busy_timeout. BEGIN IMMEDIATE waits for the lock up front.
      const sql = /^\s*begin\s*;?\s*$/i.test(text) ? 'BEGIN IMMEDIATE' : text;
      let statement = cache.get(sql);
      if (!statement) {
        // Queries built from varying input (IN lists) would grow the cache without bound.
        if (cache.size >= MAX_CACHED_STATEMENTS) cache.clear();
        statement = database.prepare(sql) as unknown as SqliteStatement;
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}
