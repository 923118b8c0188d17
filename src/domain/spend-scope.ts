import type { Micros } from './money.js';
import type { Window } from './periods.js';
import type { AgentLimit } from './plans.js';
import { type PoolRoom, UNLIMITED } from './waterfall.js';

/**
 * What one request may draw on, as the billing service works it out from the key, the account's
 * subscriptions, the plans and the clock. The ledger reads the spend of each scope in one step with
 * the hold, so concurrent requests cannot both take the last of a pool.
 */
export interface SpendScope {
  readonly accountId: string;
  readonly keyId: string;
  readonly keyLimit: { readonly limit: Micros; readonly window: Window } | undefined;
  readonly primary:
    | {
        readonly pool: 'subscription';
        /** Undefined when the account has no inference subscription: the pool is then empty. */
        readonly period: { readonly budget: Micros; readonly window: Window } | undefined;
      }
    | {
        readonly pool: 'agent_quota';
        /** Undefined when the account has no Pro chat plan: the quota is then empty. */
        readonly limits: readonly AgentLimit[] | undefined;
      }
    | undefined;
  readonly prepaid: boolean;
}

/** Spend in one agent window, holds in flight included. */
export interface WindowUse {
  readonly usd: Micros;
  readonly requests: number;
  /** When the oldest spend still in the window was incurred: the window frees up from then + its length. */
  readonly oldestAt: number | undefined;
}

/** What the ledger knows of a scope's pools at one moment, holds in flight included. */
export interface PoolUsage {
  readonly prepaidAvailable: Micros;
  readonly keySpent: Micros;
  readonly subscriptionSpent: Micros;
  /** One per agent limit, in the plan's order. */
  readonly agentWindows: readonly WindowUse[];
}

function agentRoom(
  limits: readonly AgentLimit[] | undefined,
  windows: readonly WindowUse[],
): { room: Micros; open: boolean } {
  if (!limits || limits.length === 0) return { room: 0, open: false };
  let room = UNLIMITED;
  let open = true;
  limits.forEach((limit, i) => {
    const use = windows[i] ?? { usd: 0, requests: 0, oldestAt: undefined };
    if (limit.requests !== undefined && use.requests >= limit.requests) open = false;
    if (limit.usd !== undefined) room = Math.min(room, Math.max(0, limit.usd - use.usd));
  });
  return open ? { room, open } : { room: 0, open };
}

/** How much each pool can still give, from what has been spent. */
export function roomOf(scope: SpendScope, usage: PoolUsage): PoolRoom {
  let primary: PoolRoom['primary'];
  if (scope.primary?.pool === 'subscription') {
    const { period } = scope.primary;
    primary = {
      pool: 'subscription',
      room: Math.max(0, (period?.budget ?? 0) - usage.subscriptionSpent),
      open: period !== undefined,
    };
  } else if (scope.primary?.pool === 'agent_quota') {
    primary = { pool: 'agent_quota', ...agentRoom(scope.primary.limits, usage.agentWindows) };
  }
  return {
    keyLimit: scope.keyLimit ? Math.max(0, scope.keyLimit.limit - usage.keySpent) : undefined,
    primary,
    prepaid: scope.prepaid ? Math.max(0, usage.prepaidAvailable) : undefined,
  };
}
