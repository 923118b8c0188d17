import type { Ledger } from '../../src/ports/ledger.js';

export interface LedgerFigures {
  /** What the account's prepaid entries sum to: it must equal the balance. */
  readonly sum: number;
  readonly balance: number;
  readonly settled: number;
  readonly openHolds: number;
}

export interface PoolCharges {
  prepaid: number;
  subscription: number;
  agent_quota: number;
}

/** The account's prepaid ledger as a test checks it: entries against balance, and holds left open. */
export async function ledgerFigures(
  ledger: Pick<Ledger, 'entries'>,
  balance: number,
  accountId: string,
): Promise<LedgerFigures> {
  const entries = (await ledger.entries(accountId)).filter((e) => e.pool === 'prepaid');
  const holds = new Set(entries.filter((e) => e.kind === 'hold').map((e) => e.holdId));
  for (const e of entries) if (e.kind === 'release') holds.delete(e.holdId);
  return {
    sum: entries.reduce((total, e) => total + e.amount, 0),
    balance,
    settled: entries.filter((e) => e.kind === 'settle').reduce((total, e) => total - e.amount, 0),
    openHolds: holds.size,
  };
}

/** What each pool of the account has been charged, from the ledger's settle entries. */
export async function chargesByPool(
  ledger: Pick<Ledger, 'entries'>,
  accountId: string,
): Promise<PoolCharges> {
  const charged = { prepaid: 0, subscription: 0, agent_quota: 0 };
  for (const e of await ledger.entries(accountId)) {
    if (e.kind === 'settle') charged[e.pool] -= e.amount;
  }
  return charged;
}
