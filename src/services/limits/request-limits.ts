import type { LimitsReport } from '../../domain/account-limits.js';
import { type Failure, failure } from '../../domain/errors.js';
import { goDuration } from '../../domain/go-duration.js';
import { hasLimits, type Tier, tierAllows } from '../../domain/tiers.js';
import type { ClientChannel } from '../../ports/client-channel.js';
import type { LimiterDecision, RateLimiter } from '../../ports/rate-limiter.js';
import type { Principal } from '../authenticate.js';
import { rateLimitHeaders } from './rate-limit-headers.js';

/** A request's place under its account's limits, from admission until it ends. */
export interface LimitTicket {
  /** The tokens the request really used (prompt and output), replacing the ceiling counted at admission. */
  used(tokens: number): void;
  /** Frees the request's place and corrects its tokens (to none if `used` was never called). Idempotent. */
  end(): Promise<void>;
}

export type LimitAdmission =
  | { readonly ok: true; readonly ticket: LimitTicket }
  | { readonly ok: false; readonly failure: Failure };

const NOTHING_TO_END: LimitTicket = { used: () => {}, end: async () => {} };

/**
 * The tier's rules on the request path: which models it may use (403 `model_not_in_tier`), and its
 * requests, tokens and concurrency (429 `rate_limit_exceeded`). Admission comes before the money
 * hold, so a refused request never holds credit. Every answer of an account with limits carries
 * OpenAI's `x-ratelimit-*` headers; they are set on the channel before its first byte.
 */
export class RequestLimits {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly newId: (prefix: string) => string,
  ) {}

  modelRefusal(principal: Principal, modelId: string): Failure | undefined {
    return tierRefusal(principal, modelId);
  }

  async admit(principal: Principal, tokens: number, channel: ClientChannel): Promise<LimitAdmission> {
    const tier = principal.tier;
    if (!tier || !hasLimits(tier.limits)) return { ok: true, ticket: NOTHING_TO_END };
    const leaseId = this.newId('lease');
    const { accountId } = principal;
    const decision = await this.limiter.admit({ accountId, limits: tier.limits, tokens, leaseId });
    setHeaders(channel, decision.report);
    if (!decision.ok) return { ok: false, failure: refusal(tier, decision, tokens, channel) };
    let actual = 0;
    let ended = false;
    return {
      ok: true,
      ticket: {
        used: (count) => {
          actual = count;
        },
        end: async () => {
          if (ended) return;
          ended = true;
          await this.limiter.end({ accountId, limits: tier.limits, leaseId, tokensDelta: actual - tokens });
        },
      },
    };
  }

  /**
   * Admits the request (a 429 is returned as its failure), runs `work` with its place, and frees
   * the place and corrects its tokens however `work` ends, thrown errors included.
   */
  async within(
    principal: Principal,
    tokens: number,
    channel: ClientChannel,
    work: (ticket: LimitTicket) => Promise<Failure | undefined>,
  ): Promise<Failure | undefined> {
    const limited = await this.admit(principal, tokens, channel);
    if (!limited.ok) return limited.failure;
    try {
      return await work(limited.ticket);
    } finally {
      await limited.ticket.end();
    }
  }

  /** The headers of an answer refused before admission (a bad body, an unknown model): nothing is taken. */
  async describe(principal: Principal, channel: ClientChannel): Promise<void> {
    const tier = principal.tier;
    if (!tier || !hasLimits(tier.limits)) return;
    setHeaders(channel, await this.limiter.report(principal.accountId, tier.limits));
  }
}

/** The tier issue: 403 naming the tier, for a model the key's tier does not include. */
export function tierRefusal(principal: Principal, modelId: string): Failure | undefined {
  const tier = principal.tier;
  if (tierAllows(tier, modelId)) return undefined;
  return failure(
    'model_not_in_tier',
    `The model '${modelId}' is not available on the '${tier?.id}' tier. Check your account status and subscription tier in the dashboard.`,
    'model',
  );
}

/** Nothing limited: every request admitted, no headers. */
export function noRequestLimits(): RequestLimits {
  return new RequestLimits(
    {
      admit: async () => ({ ok: true, report: { requests: undefined, tokens: undefined } }),
      end: async () => {},
      report: async () => ({ requests: undefined, tokens: undefined }),
    },
    () => '',
  );
}

function setHeaders(channel: ClientChannel, report: LimitsReport): void {
  for (const [name, value] of rateLimitHeaders(report)) channel.header(name, value);
}

type Refused = Extract<LimiterDecision, { ok: false }>;

function refusal(tier: Tier, decision: Refused, tokens: number, channel: ClientChannel): Failure {
  const { retryAfterMs } = decision;
  if (retryAfterMs === undefined) {
    // Retrying the same request can never succeed: OpenAI's SDKs read this and do not retry.
    channel.header('x-should-retry', 'false');
  } else {
    channel.header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
    channel.header('retry-after-ms', String(Math.max(1, Math.ceil(retryAfterMs))));
  }
  const wait = retryAfterMs === undefined ? '' : ` Please try again in ${goDuration(retryAfterMs)}.`;
  const limits = tier.limits;
  switch (decision.exceeded) {
    case 'concurrent':
      return failure(
        'rate_limit_exceeded',
        `Too many requests in flight on the '${tier.id}' tier: limit ${limits.concurrentRequests} concurrent requests. Retry when one of your requests has finished.`,
      );
    case 'requests': {
      const limit = limits.requestsPerMinute ?? 0;
      const used = limit - (decision.report.requests?.remaining ?? 0);
      return {
        ...failure(
          'rate_limit_exceeded',
          `Rate limit reached on the '${tier.id}' tier for requests per minute (RPM): Limit ${limit}, Used ${used}, Requested 1.${wait}`,
        ),
        type: 'requests',
      };
    }
    case 'tokens': {
      const limit = limits.tokensPerMinute ?? 0;
      if (retryAfterMs === undefined)
        return {
          ...failure(
            'rate_limit_exceeded',
            `Request too large on the '${tier.id}' tier for tokens per minute (TPM): Limit ${limit}, Requested ${tokens}. Lower max_tokens or shorten the prompt: the request counts its prompt and its max_tokens.`,
          ),
          type: 'tokens',
        };
      const used = limit - (decision.report.tokens?.remaining ?? 0);
      return {
        ...failure(
          'rate_limit_exceeded',
          `Rate limit reached on the '${tier.id}' tier for tokens per minute (TPM): Limit ${limit}, Used ${used}, Requested ${tokens}.${wait}`,
        ),
        type: 'tokens',
      };
    }
  }
}
