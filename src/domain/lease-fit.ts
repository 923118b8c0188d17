import type { Micros } from './money.js';
import type { PoolUsage, SpendScope } from './spend-scope.js';
import { type PoolPart, type PoolRoom, UNLIMITED } from './waterfall.js';

/**
 * Credit leases: an instance reserves a slice of a scope's pools in the shared ledger and decides
 * holds against it in memory. These are the rules of money for that; the PostgreSQL ledger keeps
 * the slices (store/postgres-leases.ts).
 */

/**
 * A lease is taken only while the scope's room is more than this many slices per instance: leases
 * then take at most half of an account's room, and one that cannot fit a request is refilled or
 * bypassed (never the reason for a 402: the ledger recalls the others' slices first).
 */
export const LEASE_HEADROOM = 2;

/** What a lease still reserves in each pool it draws on. */
export interface LeaseParts {
  /** The scope's primary pool (subscription budget only: see leasable). */
  readonly primary: Micros;
  readonly prepaid: Micros;
}

/**
 * Which limits the slice took all of when it was taken: the database has nothing more in them, so
 * the slice is all a request could get there too. A pool not drained had more than the slice.
 */
export interface Drained {
  readonly primary: boolean;
  readonly prepaid: boolean;
  readonly keyLimit: boolean;
}

export interface LeaseSlice {
  readonly parts: LeaseParts;
  readonly drained: Drained;
}

/**
 * Only a scope whose pools are all money is leased. A Pro chat quota counts requests too, which a
 * slice of money cannot divide; such a scope always holds in the database.
 */
export function leasable(scope: SpendScope): boolean {
  return scope.primary?.pool !== 'agent_quota';
}

/** The sum of a lease's parts. */
export function leaseTotal(parts: LeaseParts): Micros {
  return parts.primary + parts.prepaid;
}

/**
 * The slice to reserve from `room` (the scope's room after the request that takes it), in waterfall
 * order: the primary pool first, then prepaid credit. Undefined when the room is not large enough
 * for `instances` instances to lease without crowding the account (LEASE_HEADROOM).
 */
export function sliceOf(room: PoolRoom, slice: Micros, instances: number): LeaseSlice | undefined {
  if (slice <= 0) return undefined;
  const primary = room.primary?.open && room.primary.pool === 'subscription' ? room.primary : undefined;
  if (room.primary && room.primary.pool !== 'subscription') return undefined;
  const fromPools = Math.min(UNLIMITED, (primary?.room ?? 0) + (room.prepaid ?? 0));
  const total = Math.min(fromPools, room.keyLimit ?? UNLIMITED);
  if (total <= instances * LEASE_HEADROOM * slice) return undefined;
  const fromPrimary = Math.min(slice, primary?.room ?? 0);
  const fromPrepaid = slice - fromPrimary;
  return {
    parts: { primary: fromPrimary, prepaid: fromPrepaid },
    drained: {
      primary: fromPrimary >= (primary?.room ?? 0),
      prepaid: fromPrepaid >= (room.prepaid ?? 0),
      keyLimit: room.keyLimit !== undefined && slice >= room.keyLimit,
    },
  };
}

/**
 * A usage whose room (roomOf) is the lease's remaining parts; with `undrainedUnlimited`, every
 * limit the slice did not drain is instead unlimited: the most the database could ever give.
 */
export function leaseUsage(
  scope: SpendScope,
  remaining: LeaseParts,
  drained: Drained,
  undrainedUnlimited: boolean,
): PoolUsage {
  const room = (exact: Micros, wasDrained: boolean) =>
    undrainedUnlimited && !wasDrained ? UNLIMITED : exact;
  const budget = scope.primary?.pool === 'subscription' ? scope.primary.period?.budget : undefined;
  return {
    prepaidAvailable: room(remaining.prepaid, drained.prepaid),
    keySpent: scope.keyLimit ? scope.keyLimit.limit - room(leaseTotal(remaining), drained.keyLimit) : 0,
    subscriptionSpent: budget === undefined ? 0 : budget - room(remaining.primary, drained.primary),
    agentWindows: [],
  };
}

function sameParts(a: readonly PoolPart[], b: readonly PoolPart[]): boolean {
  return (
    a.length === b.length && a.every((part, i) => part.pool === b[i]!.pool && part.amount === b[i]!.amount)
  );
}

/** What `parts` take from a lease, or undefined when they draw on a pool the lease does not hold. */
export function leaseTake(parts: readonly PoolPart[]): LeaseParts | undefined {
  let primary = 0;
  let prepaid = 0;
  for (const part of parts) {
    if (part.pool === 'prepaid') prepaid += part.amount;
    else if (part.pool === 'subscription') primary += part.amount;
    else return undefined;
  }
  return { primary, prepaid };
}

/**
 * Decides a request against a lease: the parts to hold locally, or undefined when the database
 * must decide it. The decision runs twice: against the lease's remaining parts (A), and as if every
 * limit the slice did not drain were unlimited (B). Identical parts mean the slice neither clamped
 * the request (a request without max_tokens is held for what the room affords) nor split it
 * differently from the database, whose room lies between the two; the decision is monotone in the
 * room, so it gives the same parts there too. A runs last: the caller's decision records the plan of
 * its last run.
 */
export function fitLease<T extends readonly PoolPart[]>(
  scope: SpendScope,
  remaining: LeaseParts,
  drained: Drained,
  decide: (usage: PoolUsage) => T | undefined,
): T | undefined {
  const unbounded = decide(leaseUsage(scope, remaining, drained, true));
  if (!unbounded) return undefined;
  const exact = decide(leaseUsage(scope, remaining, drained, false));
  if (!exact || !sameParts(exact, unbounded)) return undefined;
  const take = leaseTake(exact);
  if (!take || take.primary > remaining.primary || take.prepaid > remaining.prepaid) return undefined;
  return exact;
}
