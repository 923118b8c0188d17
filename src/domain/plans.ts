import type { Micros } from './money.js';

/**
 * Plans are the operator's, declared in the configuration file.
 * - An inference plan includes a budget of inference spend per monthly period.
 * - A Pro chat plan limits chat-agent keys by requests and/or USD per rolling window (say 5 hours
 *   and a week); a request is admitted only while every window has room.
 */
export type PlanKind = 'inference' | 'chat';

export interface AgentLimit {
  readonly windowMs: number;
  readonly requests: number | undefined;
  readonly usd: Micros | undefined;
}

export type Plan =
  | {
      readonly id: string;
      readonly kind: 'inference';
      readonly name: string;
      readonly monthlyBudget: Micros;
    }
  | {
      readonly id: string;
      readonly kind: 'chat';
      readonly name: string;
      readonly agentLimits: readonly AgentLimit[];
    };

/** An account's live subscription of one kind. */
export interface Subscription {
  readonly planId: string;
  readonly startedAt: number;
}

export interface AccountSubscriptions {
  readonly inference: Subscription | undefined;
  readonly chat: Subscription | undefined;
}

export const NO_SUBSCRIPTIONS: AccountSubscriptions = { inference: undefined, chat: undefined };
