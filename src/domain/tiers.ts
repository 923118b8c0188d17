/**
 * Tiers are the operator's, declared in the configuration file: how fast an account may call and
 * which models it may use. A limit left out is not enforced; a tier without models lists all.
 */
export interface TierLimits {
  readonly requestsPerMinute: number | undefined;
  readonly tokensPerMinute: number | undefined;
  readonly concurrentRequests: number | undefined;
}

export interface Tier {
  readonly id: string;
  readonly limits: TierLimits;
  /** Canonical model ids the tier may use, or every model. */
  readonly models: ReadonlySet<string> | 'all';
}

export function tierAllows(tier: Tier | undefined, modelId: string): boolean {
  return tier === undefined || tier.models === 'all' || tier.models.has(modelId);
}

export function hasLimits(limits: TierLimits): boolean {
  return (
    limits.requestsPerMinute !== undefined ||
    limits.tokensPerMinute !== undefined ||
    limits.concurrentRequests !== undefined
  );
}

/**
 * One instance's share of a limit while instances cannot count together (Redis down): the limit
 * divided by the number of instances, never below one so that every instance can still serve.
 */
export function shareOfLimits(limits: TierLimits, instances: number): TierLimits {
  const share = (limit: number | undefined) =>
    limit === undefined ? undefined : Math.max(1, Math.floor(limit / instances));
  return {
    requestsPerMinute: share(limits.requestsPerMinute),
    tokensPerMinute: share(limits.tokensPerMinute),
    concurrentRequests: share(limits.concurrentRequests),
  };
}

/**
 * The tier a request runs under. The account's own tier, set by an operator, wins: it is the more
 * specific decision (a negotiated contract, or a throttle on an abusive account). Otherwise the tier
 * of the live plan the key's requests spend (the inference plan for inference keys, the chat plan
 * for chat-agent keys), otherwise the configured default. Undefined: no tier, no limits.
 */
export function effectiveTierId(choice: {
  readonly accountTier: string | undefined;
  readonly planTier: string | undefined;
  readonly defaultTier: string | undefined;
}): string | undefined {
  return choice.accountTier ?? choice.planTier ?? choice.defaultTier;
}
