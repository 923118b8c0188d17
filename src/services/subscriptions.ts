import type { AccountSubscriptions, Plan, PlanKind } from '../domain/plans.js';
import type { AccountStore } from '../ports/accounts.js';
import type { SubscriptionStore } from '../ports/subscriptions.js';
import type { Clock } from '../ports/system.js';
import type { AccountResult } from './accounts.js';
import type { PlanCatalogue } from './billing/plan-catalogue.js';
import { type AnnounceChange, announceNothing } from './change-announcer.js';

/**
 * An account holds at most one inference subscription and one Pro chat plan. Setting a plan starts
 * it now (its monthly period is anchored to today); setting another plan of the same kind replaces
 * it at once. Cancelling ends it at once: the included budget or quota stops with it.
 */
export class SubscriptionService {
  constructor(
    private readonly plans: PlanCatalogue,
    private readonly accounts: AccountStore,
    private readonly subscriptions: SubscriptionStore,
    private readonly clock: Clock,
    private readonly newId: (prefix: string) => string,
    /** Told after a change, so that every process's caches drop the account's keys. */
    private readonly announce: AnnounceChange = announceNothing,
  ) {}

  async set(accountId: string, planId: string): Promise<AccountResult<Plan>> {
    const plan = this.plans.find(planId);
    if (!plan) {
      const known = this.plans.plans.map((p) => p.id).join(', ') || 'none are configured';
      return { ok: false, error: `no plan with id ${planId} (plans: ${known})` };
    }
    if (!(await this.accounts.find(accountId)))
      return { ok: false, error: `no account with id ${accountId}` };
    await this.subscriptions.start({
      id: this.newId('sub'),
      accountId,
      kind: plan.kind,
      planId,
      now: this.clock.now(),
    });
    await this.announce({ scope: 'account', what: 'subscription', accountId });
    return { ok: true, value: plan };
  }

  async cancel(accountId: string, kinds: readonly PlanKind[]): Promise<AccountResult<number>> {
    if (!(await this.accounts.find(accountId)))
      return { ok: false, error: `no account with id ${accountId}` };
    const ended = await this.subscriptions.cancel(accountId, kinds, this.clock.now());
    await this.announce({ scope: 'account', what: 'subscription', accountId });
    return { ok: true, value: ended };
  }

  async live(accountId: string): Promise<AccountResult<AccountSubscriptions>> {
    if (!(await this.accounts.find(accountId)))
      return { ok: false, error: `no account with id ${accountId}` };
    return { ok: true, value: await this.subscriptions.live(accountId) };
  }
}
