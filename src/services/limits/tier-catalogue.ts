import type { TierConfig } from '../../config/load-config.js';
import type { KeyType } from '../../domain/api-key.js';
import type { AccountSubscriptions } from '../../domain/plans.js';
import { effectiveTierId, type Tier } from '../../domain/tiers.js';

/** The configured tiers, and which one a key's requests run under. */
export class TierCatalogue {
  private readonly byId: ReadonlyMap<string, Tier>;

  constructor(private readonly config: TierConfig) {
    this.byId = new Map(config.tiers.map((t) => [t.id, t]));
  }

  static none(): TierCatalogue {
    return new TierCatalogue({ tiers: [], defaultTier: undefined, planTiers: new Map() });
  }

  find(id: string): Tier | undefined {
    return this.byId.get(id);
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  /**
   * An account's stored tier that the configuration no longer declares counts as none, so that
   * removing a tier from the file moves its accounts to their plan's tier or the default.
   */
  tierFor(accountTier: string | undefined, subscriptions: AccountSubscriptions, keyType: KeyType) {
    const plan = keyType === 'chat_agent' ? subscriptions.chat : subscriptions.inference;
    const id = effectiveTierId({
      accountTier: accountTier !== undefined && this.byId.has(accountTier) ? accountTier : undefined,
      planTier: plan ? this.config.planTiers.get(plan.planId) : undefined,
      defaultTier: this.config.defaultTier,
    });
    return id === undefined ? undefined : this.byId.get(id);
  }
}
