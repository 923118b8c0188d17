import { calendarWindow, subscriptionWindow } from '../../domain/periods.js';
import type { SpendScope } from '../../domain/spend-scope.js';
import type { Principal } from '../authenticate.js';
import type { PlanCatalogue } from './plan-catalogue.js';

/** Which pools a request of this key may draw on now, and over which periods. */
export function spendScopeOf(principal: Principal, plans: PlanCatalogue, now: number): SpendScope {
  const { spending, subscriptions } = principal;
  const keyLimit = spending.limit
    ? { limit: spending.limit.micros, window: calendarWindow(spending.limit.period, now) }
    : undefined;
  const base = { accountId: principal.accountId, keyId: principal.keyId, keyLimit };
  if (principal.keyType === 'chat_agent') {
    const plan = plans.ofKind(subscriptions.chat?.planId, 'chat');
    return {
      ...base,
      primary: { pool: 'agent_quota', limits: plan?.agentLimits },
      prepaid: spending.overflow,
    };
  }
  if (spending.billing === 'subscription') {
    const subscription = subscriptions.inference;
    const plan = plans.ofKind(subscription?.planId, 'inference');
    return {
      ...base,
      primary: {
        pool: 'subscription',
        period:
          plan && subscription
            ? { budget: plan.monthlyBudget, window: subscriptionWindow(subscription.startedAt, now) }
            : undefined,
      },
      prepaid: spending.overflow,
    };
  }
  return { ...base, primary: undefined, prepaid: true };
}
