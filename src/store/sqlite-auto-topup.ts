import type { Database as BetterSqlite, Statement } from 'better-sqlite3';
import { AUTO_TOPUP_OFF, type AutoTopup, needsTopup } from '../domain/auto-topup.js';
import type { Micros } from '../domain/money.js';
import type { TopupRow } from './ledger-batch.js';

interface AccountTopup {
  readonly settings: AutoTopup;
  pending: boolean;
}

/**
 * The auto top-up decision point. After a settlement takes prepaid credit below an account's
 * threshold, one top-up request is queued, to be committed with that settlement. Settlements are
 * decided one at a time in this process and a pending request blocks the next, so concurrent
 * settlements record exactly one. Payments act on the pending requests (a later issue).
 */
export class SqliteAutoTopup {
  private readonly accounts = new Map<string, AccountTopup>();
  private queued: TopupRow[] = [];
  private readonly selectSettings: Statement<[string]>;
  private readonly selectPending: Statement<[string]>;

  constructor(db: BetterSqlite) {
    this.selectSettings = db.prepare(
      `SELECT auto_topup_enabled AS enabled, auto_topup_threshold_micros AS threshold,
              auto_topup_amount_micros AS amount
         FROM accounts WHERE id = ?`,
    );
    this.selectPending = db
      .prepare(`SELECT COUNT(*) FROM topup_requests WHERE account_id = ? AND status = 'pending'`)
      .pluck();
  }

  /** Settings changed elsewhere (the CLI): read them again on next use. */
  forget(): void {
    // A request queued but not yet committed is pending all the same: keep knowing it.
    const queuedFor = new Set(this.queued.map((row) => row[1]));
    for (const accountId of this.accounts.keys())
      if (!queuedFor.has(accountId)) this.accounts.delete(accountId);
  }

  consider(accountId: string, balance: Micros, now: number, id: string): void {
    const account = this.account(accountId);
    if (!needsTopup(account.settings, balance, account.pending)) return;
    account.pending = true;
    this.queued.push([id, accountId, account.settings.amountMicros, balance, 'pending', now]);
  }

  /** How many requests are queued; each settlement's request follows those before it. */
  queuedCount(): number {
    return this.queued.length;
  }

  takeQueued(): TopupRow[] {
    const rows = this.queued;
    this.queued = [];
    return rows;
  }

  private account(accountId: string): AccountTopup {
    const known = this.accounts.get(accountId);
    if (known) return known;
    const row = this.selectSettings.get(accountId) as
      | { enabled: number; threshold: number; amount: number }
      | undefined;
    const settings = row
      ? { enabled: row.enabled === 1, thresholdMicros: row.threshold, amountMicros: row.amount }
      : AUTO_TOPUP_OFF;
    const account = { settings, pending: Number(this.selectPending.get(accountId)) > 0 };
    this.accounts.set(accountId, account);
    return account;
  }
}
