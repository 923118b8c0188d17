import { DB_NOW, MOVE_TALLIES, usageRead } from './postgres-ledger-sql.js';

/**
 * The statements of credit leases (postgres-leases.ts). A lease is a `ledger_holds` row with a
 * `lease_state`; its `prepaid_micros`, `subscription_micros` and `amount_micros` are what it
 * reserves now (its `parts` keep the slice it was taken with). Every statement that changes one
 * runs under its account's lock, after LOCK_ACCOUNT, like every other change of the account's money.
 */

/**
 * A hold decided against a lease is closing: shrinks the lease by what the hold reserved and reads
 * the scope's usage, in one statement (READ_USAGE's parameters, the lease's id first, then the
 * hold's amount, prepaid and subscription parts). `lease_state` is NULL when the lease is gone (the
 * sweeper returned it): the hold is no longer open.
 */
export const LEASE_READ = {
  name: 'tg_lease_read',
  text: usageRead(
    `shrunk AS (UPDATE ledger_holds SET amount_micros = amount_micros - $10::bigint,
                       prepaid_micros = COALESCE(prepaid_micros, 0) - $11::bigint,
                       subscription_micros = COALESCE(subscription_micros, 0) - $12::bigint
                 WHERE id = $1::text AND lease_state IS NOT NULL RETURNING lease_state)`,
    '(SELECT lease_state FROM shrunk) AS lease_state',
  ),
};

/**
 * Adds to an open lease and moves the tallies by as much; nothing when the lease is no longer open
 * (the tallies' row count is then 0). Parameters: lease id, account, key, amount, prepaid,
 * subscription, placed at (the lease's).
 */
export const LEASE_GROW = {
  name: 'tg_lease_grow',
  text: `WITH grown AS (
       UPDATE ledger_holds SET amount_micros = amount_micros + $4::bigint,
              prepaid_micros = COALESCE(prepaid_micros, 0) + $5::bigint,
              subscription_micros = COALESCE(subscription_micros, 0) + $6::bigint
        WHERE id = $1 AND lease_state = 'open' RETURNING id)
     ${MOVE_TALLIES((n) => ['$2', '$3', '$4', '$5', '$6', '0', '0', '$7'][n - 1]!)}
       AND EXISTS (SELECT 1 FROM grown)`,
};

const BEFORE = (column: string) => `(SELECT ${column} FROM before)`;
const DELTA = (column: string) => `(SELECT after.${column} - before.${column} FROM before, after)`;

/**
 * Returns what a lease reserves beyond `keep` (its owner's holds still in flight: $2 prepaid, $3
 * subscription) and retires it; with $4, deletes it (nothing is in flight). The tallies move by
 * what the row lost, read from the row itself, so that an owner's stale figure can only keep too
 * much, never return what a hold still uses. Writes no entry: a lease is no spend.
 */
export const RETURN_LEASE = {
  name: 'tg_lease_return',
  text: `WITH before AS (
       SELECT account_id, key_id, placed_at, amount_micros AS a, COALESCE(prepaid_micros, 0) AS p,
              COALESCE(subscription_micros, 0) AS s
         FROM ledger_holds WHERE id = $1 AND lease_state IS NOT NULL),
     kept AS (
       UPDATE ledger_holds SET prepaid_micros = LEAST(COALESCE(prepaid_micros, 0), $2::bigint),
              subscription_micros = LEAST(COALESCE(subscription_micros, 0), $3::bigint),
              amount_micros = LEAST(COALESCE(prepaid_micros, 0), $2::bigint)
                            + LEAST(COALESCE(subscription_micros, 0), $3::bigint),
              lease_state = 'retired'
        WHERE id = $1 AND lease_state IS NOT NULL AND NOT $4::boolean
        RETURNING amount_micros AS a, prepaid_micros AS p, subscription_micros AS s),
     gone AS (DELETE FROM ledger_holds WHERE id = $1 AND lease_state IS NOT NULL AND $4::boolean RETURNING id),
     after AS (
       SELECT COALESCE((SELECT a FROM kept), 0) AS a, COALESCE((SELECT p FROM kept), 0) AS p,
              COALESCE((SELECT s FROM kept), 0) AS s)
     ${MOVE_TALLIES((n) => [BEFORE('account_id'), BEFORE('key_id'), DELTA('a'), DELTA('p'), DELTA('s'), '0', '0', BEFORE('placed_at')][n - 1]!)}`,
};

/**
 * A hold was refused: asks every other instance's open lease on the account back, and says how
 * many leases of others are still to answer, counting only instances that beat within $3 ms: a
 * silent one answers nothing (the sweeper returns its leases), and a refusal must not wait for it.
 * Parameters: account, this instance, the instance timeout (ms).
 */
export const RECALL_LEASES = {
  name: 'tg_lease_recall',
  text: `WITH asked AS (
       UPDATE ledger_holds SET lease_state = 'recalled'
        WHERE account_id = $1 AND instance_id <> $2 AND lease_state IN ('open', 'recalled')
        RETURNING instance_id)
     SELECT COUNT(*) AS pending FROM asked a JOIN ledger_instances i ON i.id = a.instance_id
      WHERE i.heartbeat_at + $3::bigint >= ${DB_NOW}`,
};

/** This instance's leases another instance asked back. */
export const RECALLED_LEASES = {
  name: 'tg_lease_recalled',
  text: `SELECT id FROM ledger_holds WHERE instance_id = $1 AND lease_state = 'recalled'`,
};
