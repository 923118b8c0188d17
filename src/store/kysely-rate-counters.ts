import type { Kysely } from 'kysely';
import type { RateCounters } from '../ports/users.js';
import type { Database } from './tables.js';

/** Fixed-window counters in one table, so that every instance sees the same throttles. */
export class KyselyRateCounters implements RateCounters {
  constructor(private readonly db: Kysely<Database>) {}

  async increment(key: string, windowMs: number, now: number): Promise<{ count: number; resetsAt: number }> {
    // One statement: a new window when there is none or the last has ended, else one more.
    const row = await this.db
      .insertInto('rate_limits')
      .values({ key, count: 1, window_start: now, window_ms: windowMs })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({
          count: eb
            .case()
            .when(eb('rate_limits.window_start', '<=', now - windowMs))
            .then(1)
            .else(eb('rate_limits.count', '+', 1))
            .end(),
          window_start: eb
            .case()
            .when(eb('rate_limits.window_start', '<=', now - windowMs))
            .then(now)
            .else(eb.ref('rate_limits.window_start'))
            .end(),
          window_ms: windowMs,
        })),
      )
      .returning(['count', 'window_start'])
      .executeTakeFirstOrThrow();
    return { count: Number(row.count), resetsAt: Number(row.window_start) + windowMs };
  }

  async read(key: string, now: number): Promise<{ count: number; resetsAt: number }> {
    const row = await this.db
      .selectFrom('rate_limits')
      .select(['count', 'window_start', 'window_ms'])
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row) return { count: 0, resetsAt: now };
    const resetsAt = Number(row.window_start) + Number(row.window_ms);
    return resetsAt <= now ? { count: 0, resetsAt: now } : { count: Number(row.count), resetsAt };
  }

  async reset(key: string): Promise<void> {
    await this.db.deleteFrom('rate_limits').where('key', '=', key).execute();
  }

  async deleteExpired(now: number): Promise<number> {
    const result = await this.db
      .deleteFrom('rate_limits')
      .where((eb) => eb(eb('window_start', '+', eb.ref('window_ms')), '<=', now))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
