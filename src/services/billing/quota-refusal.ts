import { type Failure, failure } from '../../domain/errors.js';
import { formatUsd, type Micros } from '../../domain/money.js';
import { FOREVER } from '../../domain/periods.js';
import type { AgentLimit } from '../../domain/plans.js';
import type { PoolUsage, SpendScope } from '../../domain/spend-scope.js';
import type { ExhaustedPool } from '../../domain/waterfall.js';

export interface Refused {
  readonly exhausted: ExhaustedPool;
  readonly scope: SpendScope;
  readonly usage: PoolUsage;
  /** Set when the client's max_tokens was more than the pools pay for. */
  readonly affordableTokens: number | undefined;
  readonly requestedMaxTokens: number | undefined;
  readonly maxTokensParam: string;
}

function hours(ms: number): string {
  const h = ms / 3_600_000;
  return h % 24 === 0 ? `${h / 24} day${h === 24 ? '' : 's'}` : `${h} hour${h === 1 ? '' : 's'}`;
}

/**
 * When the agent quota next gains room: once its full windows (requests or USD) drop their oldest
 * spend. When none is full, a request that cannot fit ran into the USD window with the least room
 * left, so the time is when that window drops its oldest spend. Undefined while nothing is spent.
 */
function agentResetAt(limits: readonly AgentLimit[], usage: PoolUsage): number | undefined {
  let fullUntil: number | undefined;
  let anyFull = false;
  let tightest: { room: Micros; freesAt: number } | undefined;
  limits.forEach((limit, i) => {
    const use = usage.agentWindows[i];
    const freesAt = use?.oldestAt === undefined ? undefined : use.oldestAt + limit.windowMs;
    const full =
      (limit.requests !== undefined && (use?.requests ?? 0) >= limit.requests) ||
      (limit.usd !== undefined && (use?.usd ?? 0) >= limit.usd);
    if (full) {
      anyFull = true;
      if (freesAt !== undefined) fullUntil = Math.max(fullUntil ?? 0, freesAt);
      return;
    }
    if (limit.usd === undefined || freesAt === undefined) return;
    const room = limit.usd - (use?.usd ?? 0);
    if (!tightest || room < tightest.room || (room === tightest.room && freesAt > tightest.freesAt))
      tightest = { room, freesAt };
  });
  return anyFull ? fullUntil : tightest?.freesAt;
}

/** When the exhausted pool starts afresh; undefined for prepaid credit and lifetime limits. */
export function resetAtOf(exhausted: ExhaustedPool, scope: SpendScope, usage: PoolUsage): number | undefined {
  const { keyLimit, primary } = scope;
  if (exhausted === 'key_limit')
    return keyLimit && keyLimit.window.until !== FOREVER ? keyLimit.window.until : undefined;
  if (exhausted === 'subscription' && primary?.pool === 'subscription') return primary.period?.window.until;
  if (exhausted === 'agent_quota' && primary?.pool === 'agent_quota' && primary.limits) {
    return agentResetAt(primary.limits, usage);
  }
  return undefined;
}

function describeAgentLimits(limits: readonly AgentLimit[], usage: PoolUsage): string {
  return limits
    .map((limit, i) => {
      const use = usage.agentWindows[i];
      const parts: string[] = [];
      if (limit.requests !== undefined) parts.push(`${use?.requests ?? 0} of ${limit.requests} requests`);
      if (limit.usd !== undefined) parts.push(`${formatUsd(use?.usd ?? 0)} of ${formatUsd(limit.usd)}`);
      return `${parts.join(' and ')} in the last ${hours(limit.windowMs)}`;
    })
    .join('; ');
}

/**
 * A negative balance is a debt left by requests the provider reported more usage for than was held:
 * nothing is drawn on prepaid credit until credits have paid it.
 */
function debtMessage(balance: number, before: string): string {
  const also = before === '' ? '' : ` Also, ${before.replace(/ and $/, '')}.`;
  return `Your prepaid balance is ${formatUsd(balance)}: a debt from requests that cost more than was held for them. Requests that draw on prepaid credit are refused until credits pay the debt, which they pay first. Add credits to continue.${also}`;
}

function describe(refused: Refused): string {
  const { scope, usage } = refused;
  const { keyLimit, primary } = scope;
  const overflowHint = scope.prepaid
    ? ''
    : ' Turn on prepaid overflow for this key to continue on prepaid credits.';
  switch (refused.exhausted) {
    case 'key_limit':
      return `This key's spend limit is reached: ${formatUsd(usage.keySpent)} of ${formatUsd(keyLimit?.limit ?? 0)} ${keyLimit?.window.until === FOREVER ? 'for its lifetime' : 'this period'}.`;
    case 'subscription':
      if (primary?.pool !== 'subscription' || !primary.period) {
        return `This key is billed to the account's inference subscription, and the account has none.${overflowHint}`;
      }
      return `The subscription's included budget cannot cover this request: ${formatUsd(Math.max(0, primary.period.budget - usage.subscriptionSpent))} of ${formatUsd(primary.period.budget)} left this period.${overflowHint}`;
    case 'agent_quota':
      if (primary?.pool !== 'agent_quota' || !primary.limits) {
        return `Chat-agent keys spend the Pro chat quota, and this account has no Pro chat plan.${overflowHint}`;
      }
      return `The Pro chat agent limits are reached: ${describeAgentLimits(primary.limits, usage)}.${overflowHint}`;
    case 'prepaid': {
      const before =
        primary?.pool === 'subscription'
          ? "the subscription's included budget is used up and "
          : primary
            ? 'the Pro chat quota is used up and '
            : '';
      if (usage.prepaidAvailable < 0) return debtMessage(usage.prepaidAvailable, before);
      return `Insufficient credits: ${before}the available prepaid balance is ${formatUsd(usage.prepaidAvailable)}. Add credits to continue.`;
    }
  }
}

const POOL_NAMES: Record<ExhaustedPool, string> = {
  prepaid: 'available balance',
  subscription: "subscription's remaining budget",
  agent_quota: 'Pro chat quota',
  key_limit: "key's remaining limit",
};

/** The 402 for a request no pool can pay: which pool ran out, when it resets, what is affordable. */
export function quotaRefusal(refused: Refused): Failure {
  const resetAt = resetAtOf(refused.exhausted, refused.scope, refused.usage);
  const resets = resetAt === undefined ? '' : ` It resets at ${new Date(resetAt).toISOString()}.`;
  const details: Record<string, string | number> = { pool: refused.exhausted };
  if (resetAt !== undefined) details.resets_at = new Date(resetAt).toISOString();
  const param = refused.maxTokensParam;
  if (refused.affordableTokens !== undefined) {
    details.affordable_max_tokens = refused.affordableTokens;
    return failure(
      'insufficient_quota',
      `Insufficient quota for ${param}=${refused.requestedMaxTokens}: the ${POOL_NAMES[refused.exhausted]} affords at most ${refused.affordableTokens} output tokens for this request. Lower ${param}. ${describe(refused)}${resets}`,
      param,
      details,
    );
  }
  return failure('insufficient_quota', `${describe(refused)}${resets}`, undefined, details);
}
