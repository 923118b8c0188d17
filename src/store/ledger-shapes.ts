import type { Micros } from '../domain/money.js';
import type { PoolPart } from '../domain/waterfall.js';
import { isAmount } from './row-values.js';

/** What the parts take from prepaid credit. */
export function prepaidPart(parts: readonly PoolPart[]): Micros {
  let amount = 0;
  for (const part of parts) if (part.pool === 'prepaid') amount += part.amount;
  return amount;
}

/** What the parts take from one pool; undefined when they do not draw on it at all. */
export function partOf(parts: readonly PoolPart[], pool: PoolPart['pool']): Micros | undefined {
  let amount: Micros | undefined;
  for (const part of parts) if (part.pool === pool) amount = (amount ?? 0) + part.amount;
  return amount;
}

/**
 * Throws unless the settlement charges the held pools in order (a hold of no part: nothing, or one
 * prepaid part), each a whole non-negative number of micro-USD: the shape the ledger writes.
 */
export function checkCharge(held: readonly PoolPart[], charged: readonly PoolPart[]): void {
  const pools = held.length > 0 || charged.length === 0 ? held.map((part) => part.pool) : ['prepaid'];
  const valid =
    charged.length === pools.length &&
    charged.every((part, i) => part.pool === pools[i] && isAmount(part.amount));
  if (!valid) {
    throw new RangeError(
      `a settlement must charge the held pools in order, in whole micro-USD: held ${JSON.stringify(held)}, charged ${JSON.stringify(charged)}`,
    );
  }
}

/** Throws unless every part of a hold is a whole non-negative number of micro-USD; returns their sum. */
export function holdAmount(parts: readonly PoolPart[]): Micros {
  let amount = 0;
  for (const part of parts) {
    if (!isAmount(part.amount))
      throw new RangeError('a hold takes whole non-negative micro-USD from each pool');
    amount += part.amount;
  }
  return amount;
}
