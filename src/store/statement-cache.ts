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
    prepare(sql: string): SqliteStatement {
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
