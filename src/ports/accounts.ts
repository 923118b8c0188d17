import type { AutoTopup } from '../domain/auto-topup.js';
import type { Micros } from '../domain/money.js';

export type AccountStatus = 'active' | 'suspended';

export interface Account {
  readonly id: string;
  readonly email: string;
  readonly status: AccountStatus;
  /** Prepaid credit not held by a request in flight. */
  readonly availableMicros: Micros;
  readonly autoTopup: AutoTopup;
  readonly createdAt: number;
  /** The tier an operator gave the account itself; null: its plan's tier or the default. */
  readonly tier: string | null;
}

/** A top-up the auto top-up decided on, for payments to act on. */
export interface TopupRequest {
  readonly id: string;
  readonly accountId: string;
  readonly amountMicros: Micros;
  /** The prepaid balance the settlement left, below the threshold. */
  readonly balanceMicros: Micros;
  readonly status: 'pending' | 'completed' | 'failed';
  readonly createdAt: number;
}

export interface AccountStore {
  /** Undefined when the email is already taken. */
  create(account: { id: string; email: string; now: number }): Promise<Account | undefined>;
  find(id: string): Promise<Account | undefined>;
  /** False when no such account exists. */
  setStatus(id: string, status: AccountStatus): Promise<boolean>;
  /** False when no such account exists. */
  setTier(id: string, tier: string | null): Promise<boolean>;
  /** False when no such account exists. */
  setAutoTopup(id: string, settings: AutoTopup): Promise<boolean>;
  topupRequests(accountId: string): Promise<TopupRequest[]>;
}
