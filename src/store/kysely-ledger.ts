import type { Kysely, Transaction } from 'kysely';
import type { Micros } from '../domain/money.js';
import type { HoldToPlace, Ledger, LedgerEntry, LedgerKind, UsageRecord } from '../ports/ledger.js';
import type { Database, UsageRecordsTable } from './tables.js';

function usageRow(usage: UsageRecord): UsageRecordsTable {
  return {
    request_id: usage.requestId,
    account_id: usage.accountId,
    key_id: usage.keyId,
    base_path: usage.basePath,
    model: usage.model,
    provider_id: usage.providerId,
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    usage_source: usage.usageSource,
    cost_micros: usage.costMicros,
    status: usage.status,
    latency_ms: usage.latencyMs,
    client_ip: usage.clientIp,
    user_agent: usage.userAgent,
    created_at: usage.createdAt,
  };
}

/**
 * The ledger over Kysely. Each method is one transaction that opens with a write, so SQLite takes
 * its write lock first and a concurrent writer waits instead of failing halfway.
 */
export class KyselyLedger implements Ledger {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly newId: (prefix: string) => string,
  ) {}

  async credit(entry: {
    id: string;
    accountId: string;
    amount: Micros;
    note: string;
    now: number;
  }): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('accounts')
        .set((eb) => ({ available_micros: eb('available_micros', '+', entry.amount) }))
        .where('id', '=', entry.accountId)
        .executeTakeFirst();
      if (updated.numUpdatedRows !== 1n) return false;
      await trx
        .insertInto('ledger_entries')
        .values({
          id: entry.id,
          account_id: entry.accountId,
          kind: 'credit',
          amount_micros: entry.amount,
          hold_id: null,
          note: entry.note,
          created_at: entry.now,
        })
        .execute();
      return true;
    });
  }

  async placeHold(hold: HoldToPlace): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      // The balance check and the debit are one statement: no concurrent request can slip between them.
      const debited = await trx
        .updateTable('accounts')
        .set((eb) => ({ available_micros: eb('available_micros', '-', hold.amount) }))
        .where('id', '=', hold.accountId)
        .where('available_micros', '>=', hold.amount)
        .executeTakeFirst();
      if (debited.numUpdatedRows !== 1n) return false;
      await trx
        .insertInto('holds')
        .values({
          id: hold.id,
          account_id: hold.accountId,
          key_id: hold.keyId,
          request_id: hold.requestId,
          amount_micros: hold.amount,
          status: 'open',
          created_at: hold.now,
          expires_at: hold.expiresAt,
          closed_at: null,
        })
        .execute();
      await this.appendEntry(trx, hold.accountId, 'hold', -hold.amount, hold.id, hold.now);
      return true;
    });
  }

  async settle(holdId: string, charge: Micros, usage: UsageRecord): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const hold = await this.closeHold(trx, holdId, 'settled', usage.createdAt);
      if (!hold) return false;
      const charged = Math.min(charge, hold.amount);
      await this.refund(trx, hold.accountId, hold.amount - charged);
      await this.appendEntry(trx, hold.accountId, 'settle', -charged, holdId, usage.createdAt);
      await this.appendEntry(trx, hold.accountId, 'release', hold.amount, holdId, usage.createdAt);
      await trx
        .insertInto('usage_records')
        .values(usageRow({ ...usage, costMicros: charged }))
        .execute();
      return true;
    });
  }

  async release(holdId: string, usage: UsageRecord | undefined, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const hold = await this.closeHold(trx, holdId, 'released', now);
      if (!hold) return false;
      await this.refund(trx, hold.accountId, hold.amount);
      await this.appendEntry(trx, hold.accountId, 'release', hold.amount, holdId, now);
      if (usage) await trx.insertInto('usage_records').values(usageRow(usage)).execute();
      return true;
    });
  }

  async releaseExpired(now: number): Promise<number> {
    const expired = await this.db
      .selectFrom('holds')
      .select('id')
      .where('status', '=', 'open')
      .where('expires_at', '<', now)
      .limit(500)
      .execute();
    let released = 0;
    for (const { id } of expired) {
      if (await this.release(id, undefined, now)) released++;
    }
    return released;
  }

  async entries(accountId: string): Promise<LedgerEntry[]> {
    const rows = await this.db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      accountId: row.account_id,
      kind: row.kind as LedgerKind,
      amount: Number(row.amount_micros),
      holdId: row.hold_id,
      note: row.note,
      createdAt: Number(row.created_at),
    }));
  }

  /** Moves an open hold to its final state; undefined if it was already settled or released. */
  private async closeHold(trx: Transaction<Database>, holdId: string, status: string, now: number) {
    const row = await trx
      .updateTable('holds')
      .set({ status, closed_at: now })
      .where('id', '=', holdId)
      .where('status', '=', 'open')
      .returning(['account_id', 'amount_micros'])
      .executeTakeFirst();
    return row ? { accountId: row.account_id, amount: Number(row.amount_micros) } : undefined;
  }

  private async refund(trx: Transaction<Database>, accountId: string, amount: Micros): Promise<void> {
    if (amount === 0) return;
    await trx
      .updateTable('accounts')
      .set((eb) => ({ available_micros: eb('available_micros', '+', amount) }))
      .where('id', '=', accountId)
      .execute();
  }

  private async appendEntry(
    trx: Transaction<Database>,
    accountId: string,
    kind: LedgerKind,
    amount: Micros,
    holdId: string | null,
    now: number,
  ): Promise<void> {
    await trx
      .insertInto('ledger_entries')
      .values({
        id: this.newId('led'),
        account_id: accountId,
        kind,
        amount_micros: amount,
        hold_id: holdId,
        note: null,
        created_at: now,
      })
      .execute();
  }
}
