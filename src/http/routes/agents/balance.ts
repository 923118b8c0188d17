import type { FastifyInstance } from 'fastify';
import { microsToWholeCents } from '../../../domain/money.js';
import type { AgentWindowBalance, BalanceReader } from '../../../services/billing/balances.js';
import { principalOf } from '../../auth-hook.js';
import { isoTime, usedCents } from '../v1/balance.js';

function windowJson(w: AgentWindowBalance) {
  const { requests, usd, windowMs } = w.limit;
  const limitCents = usd === undefined ? null : microsToWholeCents(usd);
  // Use rounds up and the limit down, so a window nearly full could show more used than its limit
  // (3 of 2 cents for 2.0008 of 2.5); its use is shown at most at the limit.
  const usedCentsShown =
    limitCents === null ? usedCents(w.usdUsed) : Math.min(usedCents(w.usdUsed), limitCents);
  return {
    window_hours: windowMs / 3_600_000,
    requests_limit: requests ?? null,
    requests_used: w.requestsUsed,
    requests_remaining: requests === undefined ? null : Math.max(0, requests - w.requestsUsed),
    usd_limit_cents: limitCents,
    usd_used_cents: usedCentsShown,
    usd_remaining_cents: usd === undefined ? null : microsToWholeCents(Math.max(0, usd - w.usdUsed)),
    frees_at: isoTime(w.freesAt),
  };
}

/**
 * `GET …/agents/balance`: the Pro chat quota a chat-agent key spends first, and the prepaid balance
 * it may overflow into. `agent_quota` is null when the account has no Pro chat plan.
 */
export function agentBalanceRoutes(app: FastifyInstance, balances: BalanceReader): void {
  app.get('/balance', async (request) => {
    const principal = principalOf(request);
    const balance = await balances.of(principal.accountId, principal.subscriptions);
    const quota = balance.agentQuota;
    return {
      balance_usd_cents: microsToWholeCents(balance.prepaidAvailable),
      prepaid_overflow: principal.spending.overflow,
      agent_quota: quota
        ? { plan: quota.planId, resets_at: isoTime(quota.resetsAt), windows: quota.windows.map(windowJson) }
        : null,
    };
  });
}
