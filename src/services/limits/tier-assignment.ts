import type { Account, AccountStore } from '../../ports/accounts.js';
import type { AccountResult } from '../accounts.js';
import { type AnnounceChange, announceNothing } from '../change-announcer.js';
import type { TierCatalogue } from './tier-catalogue.js';

/** The word that clears an account's own tier (the configuration refuses it as a tier id). */
export const NO_TIER = 'none';

/** Gives an account a tier of its own, which wins over its plan's tier and the default. */
export class TierAssignment {
  constructor(
    private readonly tiers: TierCatalogue,
    private readonly accounts: AccountStore,
    /** Told after a change: cached credentials, here and on every instance, take the new tier. */
    private readonly announce: AnnounceChange = announceNothing,
  ) {}

  async set(accountId: string, tierId: string): Promise<AccountResult<Account>> {
    if (tierId !== NO_TIER && !this.tiers.find(tierId)) {
      const declared = this.tiers.ids();
      return {
        ok: false,
        error:
          declared.length === 0
            ? `unknown tier "${tierId}": the configuration declares no tiers`
            : `unknown tier "${tierId}": the configuration declares ${declared.join(', ')} (or ${NO_TIER} to clear the account's tier)`,
      };
    }
    const changed = await this.accounts.setTier(accountId, tierId === NO_TIER ? null : tierId);
    if (changed) await this.announce({ scope: 'account', what: 'tier', accountId });
    const account = changed ? await this.accounts.find(accountId) : undefined;
    return account ? { ok: true, value: account } : { ok: false, error: `no account with id ${accountId}` };
  }
}
