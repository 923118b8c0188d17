import pg from 'pg';

/**
 * What every instance wrote, checked as a whole once they have stopped or settled: each account's
 * prepaid entries sum to its balance, no hold is left open, what each pool was charged in the
 * ledger equals what the usage records say it paid, and no usage record or entry is written twice.
 * Returns the problems found, one line each (none when everything reconciles).
 */
export async function reconcilePostgres(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const problems: string[] = [];
    const rows = async (text: string) => (await client.query(text)).rows as Record<string, unknown>[];
    for (const row of await rows(`
      SELECT a.id, a.available_micros::text AS balance,
             COALESCE((SELECT SUM(amount_micros) FROM ledger_entries e
                        WHERE e.account_id = a.id AND e.pool = 'prepaid'), 0)::text AS sum
        FROM accounts a`)) {
      if (row.balance !== row.sum)
        problems.push(`${row.id}: prepaid entries sum to ${row.sum}, balance is ${row.balance}`);
    }
    for (const row of await rows(`
      SELECT h.account_id, COUNT(*)::int AS n FROM ledger_entries h
       WHERE h.kind = 'hold' AND NOT EXISTS (SELECT 1 FROM ledger_entries r
              WHERE r.hold_id = h.hold_id AND r.pool = h.pool AND r.kind = 'release')
       GROUP BY h.account_id`)) {
      problems.push(`${row.account_id}: ${row.n} hold entr(ies) never released`);
    }
    const holdsTable = await rows(`SELECT to_regclass('ledger_holds') IS NOT NULL AS present`);
    if (holdsTable[0]?.present) {
      for (const row of await rows(
        'SELECT account_id, COUNT(*)::int AS n FROM ledger_holds GROUP BY account_id',
      ))
        problems.push(`${row.account_id}: ${row.n} hold(s) still open`);
    }
    const inLedger = new Map<string, bigint>();
    for (const row of await rows(`
      SELECT account_id, pool, (-SUM(amount_micros))::text AS charged FROM ledger_entries
       WHERE kind = 'settle' GROUP BY account_id, pool`)) {
      inLedger.set(`${row.account_id} ${row.pool}`, BigInt(String(row.charged)));
    }
    const recorded = new Map<string, bigint>();
    for (const row of await rows('SELECT account_id, pools FROM usage_records')) {
      for (const [pool, micros] of Object.entries(JSON.parse(String(row.pools)) as Record<string, number>)) {
        const key = `${row.account_id} ${pool}`;
        recorded.set(key, (recorded.get(key) ?? 0n) + BigInt(micros));
      }
    }
    for (const key of new Set([...inLedger.keys(), ...recorded.keys()])) {
      const ledger = inLedger.get(key) ?? 0n;
      const usage = recorded.get(key) ?? 0n;
      if (ledger !== usage)
        problems.push(`${key}: charged ${ledger} in the ledger, ${usage} in usage records`);
    }
    for (const row of await rows(
      'SELECT request_id, COUNT(*)::int AS n FROM usage_records GROUP BY request_id HAVING COUNT(*) > 1',
    ))
      problems.push(`usage record ${row.request_id} written ${row.n} times`);
    for (const row of await rows(
      'SELECT id, COUNT(*)::int AS n FROM ledger_entries GROUP BY id HAVING COUNT(*) > 1',
    ))
      problems.push(`ledger entry ${row.id} written ${row.n} times`);
    return problems;
  } finally {
    await client.end();
  }
}
