/**
 * The PostgreSQL ledger's statements, each prepared once per connection under its name. Values are
 * bound, never spliced; arrays go through unnest, so that a statement's text never changes with
 * the number of rows.
 */

/** The database's clock in epoch milliseconds: instances' clocks never have to agree. */
export const DB_NOW = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

/**
 * Takes the account's row lock, which every change of the account's money takes first: holds,
 * settlements, releases and credits of every instance are serialised on it, so that reading the
 * usage, deciding and reserving cannot interleave with another. The pending top-up is read here;
 * the unique index settles any race on it all the same.
 */
export const LOCK_ACCOUNT = {
  name: 'tg_ledger_lock',
  text: `SELECT available_micros, auto_topup_enabled, auto_topup_threshold_micros, auto_topup_amount_micros,
            EXISTS (SELECT 1 FROM topup_requests t WHERE t.account_id = a.id AND t.status = 'pending') AS pending
       FROM accounts a WHERE id = $1 FOR UPDATE`,
};

const TALLY = `SELECT used_micros FROM ledger_tallies WHERE account_id = $2`;

/**
 * Reads the scope's usage and, when $1 names one, closes (deletes) that hold in the same
 * statement. Run after LOCK_ACCOUNT, so that its snapshot, taken after the lock was granted, holds
 * every change the previous holder of the lock committed. A NULL figure is a tally not kept yet
 * (INIT_TALLIES). Parameters: hold id, account, key, key window, subscription window, now, agent
 * windows (ms).
 */
export const READ_USAGE = {
  name: 'tg_ledger_read',
  text: usageRead(
    'closed AS (DELETE FROM ledger_holds WHERE id = $1::text RETURNING *)',
    '(SELECT row_to_json(closed) FROM closed) AS hold',
  ),
};

/**
 * READ_USAGE's reading after a statement that changes one hold row (`change`, a CTE), whose result
 * `result` selects: the snapshot is the same, so the figures are those before the change.
 */
export function usageRead(change: string, result: string): string {
  return `WITH ${change}
     SELECT ${result},
            (${TALLY} AND scope = 'held' AND window_from = 0 AND window_until = 0) AS held,
            (SELECT json_build_array(used_micros, requests) FROM ledger_tallies
              WHERE account_id = $2 AND scope = 'agent_held' AND window_from = 0 AND window_until = 0) AS agent_held,
            CASE WHEN $4::bigint IS NULL THEN 0 ELSE
              (${TALLY} AND scope = 'key:' || $3::text AND window_from = $4 AND window_until = $5::bigint) END AS key_spent,
            CASE WHEN $6::bigint IS NULL THEN 0 ELSE
              (${TALLY} AND scope = 'subscription' AND window_from = $6 AND window_until = $7::bigint) END AS subscription_spent,
            (SELECT COALESCE(json_agg(json_build_array(s.usd, s.n, s.oldest) ORDER BY w.ord), '[]')
               FROM unnest($9::bigint[]) WITH ORDINALITY AS w(ms, ord)
               CROSS JOIN LATERAL (
                 SELECT COALESCE(-SUM(amount_micros), 0) AS usd, COUNT(*) AS n, MIN(period_at) AS oldest
                   FROM ledger_entries
                  WHERE account_id = $2 AND pool = 'agent_quota' AND kind = 'settle'
                    AND period_at > $8::bigint - w.ms) s) AS agent_windows`;
}

/**
 * Starts the tallies a scope needs from the ledger and the open holds: the first use of an
 * account, a new period, a key limit whose period changed. Under the account's lock, like every
 * change of them, so that nothing moves between computing and inserting. Same parameters as
 * READ_USAGE but the first and the last two.
 */
export const INIT_TALLIES = {
  name: 'tg_ledger_init',
  text: `INSERT INTO ledger_tallies (account_id, scope, window_from, window_until, used_micros, requests)
     SELECT $1, 'held', 0, 0, COALESCE(SUM(prepaid_micros), 0), 0 FROM ledger_holds WHERE account_id = $1
     UNION ALL
     SELECT $1, 'agent_held', 0, 0, COALESCE(SUM(agent_micros), 0), COUNT(agent_micros)
       FROM ledger_holds WHERE account_id = $1
     UNION ALL
     SELECT $1, 'key:' || $2::text, $3::bigint, $4::bigint,
            (SELECT COALESCE(-SUM(amount_micros), 0) FROM ledger_entries
              WHERE account_id = $1 AND key_id = $2 AND kind = 'settle' AND period_at >= $3 AND period_at < $4)
          + (SELECT COALESCE(SUM(amount_micros), 0) FROM ledger_holds
              WHERE account_id = $1 AND key_id = $2 AND placed_at >= $3 AND placed_at < $4), 0
      WHERE $3::bigint IS NOT NULL
     UNION ALL
     SELECT $1, 'subscription', $5::bigint, $6::bigint,
            (SELECT COALESCE(-SUM(amount_micros), 0) FROM ledger_entries
              WHERE account_id = $1 AND pool = 'subscription' AND kind = 'settle'
                AND period_at >= $5 AND period_at < $6)
          + (SELECT COALESCE(SUM(subscription_micros), 0) FROM ledger_holds
              WHERE account_id = $1 AND placed_at >= $5 AND placed_at < $6), 0
      WHERE $5::bigint IS NOT NULL
     ON CONFLICT DO NOTHING`,
};

/**
 * Moves the tallies of every window that holds `at` ($8, when the hold was placed). Parameters:
 * account, key, key delta, prepaid held delta, subscription delta, agent held delta, agent
 * requests delta, at. Every hold counts against its key's figures, limited or not: a limit may be
 * set while it is in flight.
 */
export const MOVE_TALLIES = (p: (n: number) => string) => `UPDATE ledger_tallies SET
        used_micros = used_micros + CASE scope WHEN 'held' THEN ${p(4)}::bigint WHEN 'agent_held' THEN ${p(6)}::bigint
                                               WHEN 'subscription' THEN ${p(5)}::bigint ELSE ${p(3)}::bigint END,
        requests = requests + CASE scope WHEN 'agent_held' THEN ${p(7)}::bigint ELSE 0 END
      WHERE account_id = ${p(1)}::text
        AND (scope IN ('held', 'agent_held')
             OR ((scope = 'subscription' OR scope = 'key:' || ${p(2)}::text)
                 AND window_from <= ${p(8)}::bigint AND ${p(8)}::bigint < window_until))`;

/**
 * Records the hold and moves the tallies. Parameters: id, account, key, instance, placed at,
 * amount, prepaid, subscription, agent parts (NULL when not drawn on), parts, scope, then
 * MOVE_TALLIES' deltas: key, prepaid, subscription, agent, agent requests; then the lease state
 * (NULL: a hold; 'open': a credit lease).
 */
export const PLACE_HOLD = {
  name: 'tg_ledger_place',
  text: `WITH placed AS (
       INSERT INTO ledger_holds (id, account_id, key_id, instance_id, placed_at, amount_micros,
                                 prepaid_micros, subscription_micros, agent_micros, parts, scope, lease_state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $17::text))
     ${MOVE_TALLIES((n) => `$${[2, 3, 12, 13, 14, 15, 16, 5][n - 1]}`)}`,
};

export const ENTRY_ARRAYS = 10;
export const USAGE_VALUES = 21;

/**
 * Writes what closing a hold (or a credit) leaves: its entries, the account's committed balance,
 * the tallies, an auto top-up request (at most one pending: the unique index) and the usage
 * record. Parameters: $1–$10 entry columns as arrays; $11 account; $12 balance delta; $13–$20
 * MOVE_TALLIES (account, key, deltas, at); $21–$24 top-up (id or NULL, amount, balance, at);
 * $25– the usage record (request id NULL: none).
 */
export const CLOSE_HOLD = {
  name: 'tg_ledger_close',
  text: `WITH entries AS (
       INSERT INTO ledger_entries (id, account_id, kind, pool, amount_micros, hold_id, key_id, note, created_at, period_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[],
                            $8::text[], $9::bigint[], $10::bigint[])),
     balance AS (
       UPDATE accounts SET available_micros = available_micros + $12::bigint WHERE id = $11 AND $12::bigint <> 0),
     tallies AS (${MOVE_TALLIES((n) => `$${12 + n}`)}),
     topup AS (
       INSERT INTO topup_requests (id, account_id, amount_micros, balance_micros, status, created_at)
       SELECT $21::text, $11, $22::bigint, $23::bigint, 'pending', $24::bigint WHERE $21::text IS NOT NULL
       ON CONFLICT (account_id) WHERE status = 'pending' DO NOTHING)
     INSERT INTO usage_records (request_id, account_id, key_id, base_path, model, provider_id, upstream_model,
         prompt_tokens, completion_tokens, usage_source, cost_micros, pools, status, latency_ms, client_ip,
         user_agent, created_at, cache_read_tokens, cache_write_tokens, over_hold, outcome)
     SELECT ${Array.from({ length: USAGE_VALUES }, (_, i) => `$${25 + i}`).join(', ')} WHERE $25::text IS NOT NULL`,
};

/** Whether a request's usage record exists: found through the account and time index. */
export const RECORDED = {
  name: 'tg_ledger_recorded',
  text: 'SELECT 1 FROM usage_records WHERE account_id = $1 AND created_at = $2 AND request_id = $3',
};

/** A credit: the balance and its entry in one statement; no row for an unknown account. */
export const CREDIT = {
  name: 'tg_ledger_credit',
  text: `WITH credited AS (
       UPDATE accounts SET available_micros = available_micros + $3 WHERE id = $2 RETURNING id)
     INSERT INTO ledger_entries (id, account_id, kind, pool, amount_micros, hold_id, key_id, note, created_at, period_at)
     SELECT $1, id, 'credit', 'prepaid', $3, NULL, NULL, $4, $5, $5 FROM credited`,
};

/** Prepaid credit not held: the committed balance less what open holds reserve. */
export const AVAILABLE = {
  name: 'tg_ledger_available',
  text: `SELECT a.available_micros - COALESCE(t.used_micros, 0) AS available
       FROM accounts a
       LEFT JOIN ledger_tallies t
         ON t.account_id = a.id AND t.scope = 'held' AND t.window_from = 0 AND t.window_until = 0
      WHERE a.id = $1`,
};

export const ENTRIES = {
  name: 'tg_ledger_entries',
  text: `SELECT id, account_id, kind, pool, key_id, amount_micros, hold_id, note, created_at, period_at
       FROM ledger_entries WHERE account_id = $1 ORDER BY seq`,
};
