import type { FastifyInstance } from 'fastify';
import { type Micros, microsToWholeCents } from '../../../domain/money.js';
import type { BalanceReader } from '../../../services/billing/balances.js';
import { principalOf } from '../../auth-hook.js';

/** Used amounts round up and remaining ones down, so a balance never shows money that is not there. */
export function usedCents(micros: Micros): number {
  return Math.ceil(micros / 10_000);
}

export function isoTime(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/**
 * `GET /v1/balance`: `{"balance_usd_cents": N}` exactly as the reference documents show, plus a
 * `subscription` object when the account has an inference subscription. Existing fields never
 * change meaning.
 */
export function balanceRoutes(app: FastifyInstance, balances: BalanceReader): void {
  app.get('/balance', async (request) => {
    const principal = principalOf(request);
    const balance = await balances.of(principal.accountId, principal.subscriptions);
    const { subscription } = balance;
    return {
      balance_usd_cents: microsToWholeCents(balance.prepaidAvailable),
      ...(subscription
        ? {
            subscription: {
              plan: subscription.planId,
              budget_usd_cents: microsToWholeCents(subscription.budget),
              remaining_usd_cents: microsToWholeCents(subscription.remaining),
              resets_at: isoTime(subscription.resetsAt),
            },
          }
        : {}),
    };
  });
}
