import { planHold } from './hold-plan.js';
import type { Micros } from './money.js';
import type { ModelPrice } from './pricing.js';

/**
 * The billing waterfall. A request draws on, in order:
 *   1. its key's spend limit (a cap on everything the key spends, not a pool of money),
 *   2. the primary pool: the subscription's included budget for subscription keys, the Pro chat
 *      quota for chat-agent keys (prepaid keys have none),
 *   3. prepaid credit: always for prepaid keys, otherwise only when the key's overflow is on.
 * The hold takes from the primary pool first and from prepaid credit for the rest; the settlement
 * charges in the same order, all of what the provider reported (split-charge.ts).
 */
export type Pool = 'prepaid' | 'subscription' | 'agent_quota';
/** What a 402 names as the thing that ran out. */
export type ExhaustedPool = Pool | 'key_limit';

/** Room so large that it never binds; 2^50 micro-USD can be added to another without losing precision. */
export const UNLIMITED: Micros = 2 ** 50;

/** What each pool can still give one request, read by the ledger in the same step as the hold. */
export interface PoolRoom {
  /** Undefined: the key has no spend limit. */
  readonly keyLimit: Micros | undefined;
  readonly primary:
    | {
        readonly pool: 'subscription' | 'agent_quota';
        readonly room: Micros;
        /**
         * False when the pool admits no request whatever it costs: no plan, or a request limit
         * reached. A free model's request must still count against a request limit.
         */
        readonly open: boolean;
      }
    | undefined;
  /** Undefined: this key may not spend prepaid credit. */
  readonly prepaid: Micros | undefined;
}

export interface PoolPart {
  readonly pool: Pool;
  readonly amount: Micros;
}

export interface WaterfallRequest {
  readonly price: ModelPrice;
  readonly promptTokensCeiling: number;
  readonly requestedMaxTokens: number | undefined;
  readonly modelMaxOutputTokens: number;
  /** Completions generated, each up to the output limit (see HoldRequest). */
  readonly generations: number;
}

export type WaterfallPlan =
  | {
      readonly kind: 'hold';
      readonly holdMicros: Micros;
      readonly maxTokens: number;
      /** In waterfall order, without empty parts. */
      readonly parts: readonly PoolPart[];
    }
  | {
      readonly kind: 'refused';
      readonly exhausted: ExhaustedPool;
      /** What the pools together could give. */
      readonly available: Micros;
      /** Set when the client's max_tokens was too many: the most the pools pay for. */
      readonly affordableTokens: number | undefined;
    };

function refusal(
  room: PoolRoom,
  fromPools: Micros,
  available: Micros,
  affordableTokens?: number,
): WaterfallPlan {
  return { kind: 'refused', exhausted: exhaustedPool(room, fromPools), available, affordableTokens };
}

function exhaustedPool(room: PoolRoom, fromPools: Micros): ExhaustedPool {
  if (room.keyLimit !== undefined && room.keyLimit < fromPools) return 'key_limit';
  if (room.prepaid !== undefined) return 'prepaid';
  return room.primary?.pool ?? 'prepaid';
}

/** Plans one request's hold across the pools, or names the pool whose lack refuses it. */
export function planWaterfall(request: WaterfallRequest, room: PoolRoom): WaterfallPlan {
  const primary = room.primary?.open ? room.primary : undefined;
  const fromPools = Math.min(UNLIMITED, (primary?.room ?? 0) + (room.prepaid ?? 0));
  const available = Math.min(fromPools, room.keyLimit ?? UNLIMITED);
  if (!primary && room.prepaid === undefined) return refusal(room, fromPools, available);
  // Field by field: a spread followed by another field takes V8's slow runtime path (see sqlite-pool-spend.ts).
  const plan = planHold({
    price: request.price,
    promptTokensCeiling: request.promptTokensCeiling,
    requestedMaxTokens: request.requestedMaxTokens,
    modelMaxOutputTokens: request.modelMaxOutputTokens,
    generations: request.generations,
    available,
  });
  if (plan.kind !== 'hold') {
    return refusal(
      room,
      fromPools,
      available,
      plan.kind === 'requested-unaffordable' ? plan.affordableTokens : undefined,
    );
  }
  const parts: PoolPart[] = [];
  const fromPrimary = Math.min(plan.holdMicros, primary?.room ?? 0);
  // An open primary pool takes part even at $0 (a free model), so that the request counts against it.
  if (primary && (fromPrimary > 0 || plan.holdMicros === 0))
    parts.push({ pool: primary.pool, amount: fromPrimary });
  if (plan.holdMicros > fromPrimary) parts.push({ pool: 'prepaid', amount: plan.holdMicros - fromPrimary });
  return { kind: 'hold', holdMicros: plan.holdMicros, maxTokens: plan.maxTokens, parts };
}
