import type { Micros } from './money.js';
import type { Pool, PoolPart, PoolRoom } from './waterfall.js';

function roomIn(room: PoolRoom | undefined, pool: Pool): Micros {
  if (!room) return 0;
  if (pool === 'prepaid') return room.prepaid ?? 0;
  return room.primary?.pool === pool ? room.primary.room : 0;
}

/**
 * Splits a settlement's charge over the pools its hold drew on (`held`, in waterfall order). What
 * the provider reported is charged in full, never capped at the hold:
 *   1. each held part pays up to what it held, in order, so a charge below the hold leaves the
 *      later parts unpaid and their reservation goes back;
 *   2. the excess above the hold goes to the same parts in the same order, each taking the room its
 *      pool still has at settlement (`room`, read with this hold still counted: budget another
 *      request gave back meanwhile, available prepaid credit);
 *   3. what is still left goes to the last part: that pool counts above its cap for the rest of its
 *      period or window (subscription budget, Pro chat quota), or prepaid credit goes below zero,
 *      a debt that the next credits pay first.
 * The excess never moves to a pool the hold did not draw on: a key whose overflow is on, but whose
 * hold its subscription covered, runs its subscription over rather than spending prepaid credit it
 * did not reserve. A key's spend limit is no pool: it counts the whole charge, whatever the split.
 * A hold that drew on no pool (a free request of a prepaid key) has any charge paid by prepaid
 * credit, the pool such a request may draw on.
 *
 * The result keeps the held parts' pools and order (for a hold of no part: nothing, or that one
 * prepaid part).
 */
export function splitCharge(
  held: readonly PoolPart[],
  charge: Micros,
  /** What each pool can still give now; needed only when the charge exceeds the hold. */
  room?: PoolRoom,
): PoolPart[] {
  if (held.length === 0) return charge > 0 ? [{ pool: 'prepaid', amount: charge }] : [];
  let left = charge;
  const charged = held.map((part) => {
    const amount = Math.min(left, part.amount);
    left -= amount;
    return { pool: part.pool, amount };
  });
  if (left <= 0) return charged;
  for (const part of charged) {
    const extra = Math.min(left, roomIn(room, part.pool));
    if (extra <= 0) continue;
    part.amount += extra;
    left -= extra;
  }
  charged[charged.length - 1]!.amount += left;
  return charged;
}
