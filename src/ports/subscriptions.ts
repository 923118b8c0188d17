import type { AccountSubscriptions, PlanKind } from '../domain/plans.js';

export interface SubscriptionStore {
  /** The account's live subscriptions. */
  live(accountId: string): Promise<AccountSubscriptions>;
  /** Starts a subscription of the plan's kind, ending the live one of that kind in the same transaction. */
  start(input: { id: string; accountId: string; kind: PlanKind; planId: string; now: number }): Promise<void>;
  /** Ends the live subscriptions of the given kinds; returns how many ended. */
  cancel(accountId: string, kinds: readonly PlanKind[], now: number): Promise<number>;
}
