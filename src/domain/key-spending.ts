import type { Micros } from './money.js';
import type { LimitPeriod } from './periods.js';

/**
 * How a key spends. Inference keys spend prepaid credit, or the account's included subscription
 * budget first; chat-agent keys spend the Pro chat quota first. Either falls back to prepaid credit
 * only when `overflow` is on. Any key may carry a spend limit of its own, so that one application
 * cannot drain the account.
 */
export type KeyBilling = 'prepaid' | 'subscription';

export interface KeySpendLimit {
  readonly micros: Micros;
  readonly period: LimitPeriod;
}

export interface KeySpending {
  readonly billing: KeyBilling;
  readonly overflow: boolean;
  readonly limit: KeySpendLimit | undefined;
}

export const PREPAID_SPENDING: KeySpending = { billing: 'prepaid', overflow: false, limit: undefined };
