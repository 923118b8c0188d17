import { copyFileSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import { newId } from '../../src/crypto/system.js';
import type { SpendScope } from '../../src/domain/spend-scope.js';
import { splitCharge } from '../../src/domain/split-charge.js';
import type { ChargeDecision, Ledger, UsageFacts } from '../../src/ports/ledger.js';
import { settlementJournalPath } from '../../src/store/settlement-journal.js';

/** One prepaid account and key, for tests of the SQLite ledger on a database of their own. */
export const TEST_ACCOUNT = 'acct_ledger_test';

export const testScope: SpendScope = {
  accountId: TEST_ACCOUNT,
  keyId: 'key_ledger_test',
  keyLimit: undefined,
  primary: undefined,
  prepaid: true,
};

export function usageFacts(requestId: string, userAgent = 'test'): UsageFacts {
  return {
    requestId,
    accountId: TEST_ACCOUNT,
    keyId: testScope.keyId,
    basePath: '/v1',
    model: 'test-model',
    providerId: 'test',
    upstreamModel: 'upstream-model',
    promptTokens: 10,
    completionTokens: 5,
    usageSource: 'upstream',
    outcome: 'completed',
    status: 200,
    latencyMs: 1,
    clientIp: '127.0.0.1',
    userAgent,
    createdAt: Date.now(),
  };
}

/** Charges `micros` as billing does: the held pools in order, any excess on the last one. */
export function charge(micros: number): ChargeDecision {
  return (hold) => splitCharge(hold.parts, micros);
}

/** Creates the account, with nothing on it, as the CLI would. */
export function insertTestAccount(sqlite: Database): void {
  sqlite
    .prepare(
      `INSERT INTO accounts (id, email, status, available_micros, created_at, auto_topup_enabled,
         auto_topup_threshold_micros, auto_topup_amount_micros)
       VALUES (?, 'ledger@example.com', 'active', 0, ?, 0, 0, 0)`,
    )
    .run(TEST_ACCOUNT, Date.now());
}

export async function creditTestAccount(ledger: Ledger, micros: number): Promise<void> {
  await ledger.credit({
    id: newId('led'),
    accountId: TEST_ACCOUNT,
    amount: micros,
    note: 'test',
    now: Date.now(),
  });
}

/** Resolves after the immediates queued before it: one turn of the event loop. */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Copies the database, its WAL and its settlement journal as they are at this instant: what SIGKILL
 * would leave behind.
 */
export function snapshotAsCrashed(file: string, crashed: string): void {
  copyFileSync(file, crashed);
  copyFileSync(`${file}-wal`, `${crashed}-wal`);
  copyFileSync(settlementJournalPath(file), settlementJournalPath(crashed));
}
