import type { Micros } from '../domain/money.js';

export type AccountStatus = 'active' | 'suspended';

export interface Account {
  readonly id: string;
  readonly email: string;
  readonly status: AccountStatus;
  /** Prepaid credit not held by a request in flight. */
  readonly availableMicros: Micros;
  readonly createdAt: number;
}

export interface AccountStore {
  /** Undefined when the email is already taken. */
  create(account: { id: string; email: string; now: number }): Promise<Account | undefined>;
  find(id: string): Promise<Account | undefined>;
  /** False when no such account exists. */
  setStatus(id: string, status: AccountStatus): Promise<boolean>;
}
