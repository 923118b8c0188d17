import type { Micros } from '../../domain/money.js';
import type { AccountSubscriptions, AgentLimit } from '../../domain/plans.js';
import type { Ledger } from '../../ports/ledger.js';
import type { Clock } from '../../ports/system.js';
import type { Principal } from '../authenticate.js';
import type { PlanCatalogue } from './plan-catalogue.js';
import { resetAtOf } from './quota-refusal.js';
import { spendScopeOf } from './spend-scope-of.js';

export interface SubscriptionBalance {
  readonly planId: string;
  readonly budget: Micros;
  readonly remaining: Micros;
  readonly resetsAt: number;
}

export interface AgentWindowBalance {
  readonly limit: AgentLimit;
  readonly usdUsed: Micros;
  readonly requestsUsed: number;
  /** When the window's oldest spend leaves it; undefined when nothing has been spent in it. */
  readonly freesAt: number | undefined;
}

export interface AgentQuotaBalance {
  readonly planId: string;
  readonly windows: readonly AgentWindowBalance[];
  /**
   * When the quota next gains room: when its full windows drop their oldest spend or, if none is
   * full, when its USD window with the least room left does. Undefined while nothing is spent.
   */
  readonly resetsAt: number | undefined;
}

export interface Balances {
  readonly prepaidAvailable: Micros;
  /** The account's inference subscription, whatever the key's billing mode; undefined without one. */
  readonly subscription: SubscriptionBalance | undefined;
  /** The account's Pro chat quota; undefined without a Pro chat plan. */
  readonly agentQuota: AgentQuotaBalance | undefined;
}

/** What `GET …/balance` shows: prepaid credit, and the pools that reset. */
export class BalanceReader {
  constructor(
    private readonly ledger: Ledger,
    private readonly plans: PlanCatalogue,
    private readonly clock: Clock,
  ) {}

  async of(accountId: string, subscriptions: AccountSubscriptions): Promise<Balances> {
    const now = this.clock.now();
    // The scopes a subscription key and a chat-agent key of this account spend from, without key limits.
    const key: Principal = {
      keyId: '',
      accountId,
      keyType: 'inference',
      spending: { billing: 'subscription', overflow: false, limit: undefined },
      subscriptions,
    };
    const subscriptionScope = spendScopeOf(key, this.plans, now);
    const agentScope = spendScopeOf({ ...key, keyType: 'chat_agent' }, this.plans, now);
    const subscriptionUsage = await this.ledger.usage(subscriptionScope, now);
    const agentUsage = await this.ledger.usage(agentScope, now);
    const subscription =
      subscriptionScope.primary?.pool === 'subscription' ? subscriptionScope.primary.period : undefined;
    const limits = agentScope.primary?.pool === 'agent_quota' ? agentScope.primary.limits : undefined;
    const subscriptionSpent = subscriptionUsage?.subscriptionSpent ?? 0;
    return {
      prepaidAvailable: subscriptionUsage?.prepaidAvailable ?? 0,
      subscription:
        subscription && subscriptions.inference
          ? {
              planId: subscriptions.inference.planId,
              budget: subscription.budget,
              remaining: Math.max(0, subscription.budget - subscriptionSpent),
              resetsAt: subscription.window.until,
            }
          : undefined,
      agentQuota:
        limits && subscriptions.chat && agentUsage
          ? {
              planId: subscriptions.chat.planId,
              windows: limits.map((limit, i) => {
                const use = agentUsage.agentWindows[i];
                return {
                  limit,
                  usdUsed: use?.usd ?? 0,
                  requestsUsed: use?.requests ?? 0,
                  freesAt: use?.oldestAt === undefined ? undefined : use.oldestAt + limit.windowMs,
                };
              }),
              resetsAt: resetAtOf('agent_quota', agentScope, agentUsage),
            }
          : undefined,
    };
  }
}
