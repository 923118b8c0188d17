import { randomFillSync } from 'node:crypto';
import { randomBase62, toBase62 } from '../domain/base62.js';
import type { Clock, RandomSource } from '../ports/system.js';

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Random bytes from the CSPRNG, drawn 4 KiB at a time: one call into OpenSSL serves a hundred ids
 * instead of one, which matters on the request path (each request takes three or four ids).
 */
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

function take(count: number): Uint8Array {
  if (count > POOL_SIZE) return randomFillSync(Buffer.alloc(count));
  if (poolOffset + count > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  // A copy, so that the caller's bytes are never overwritten when the pool is refilled.
  const out = Uint8Array.prototype.slice.call(pool, poolOffset, poolOffset + count);
  poolOffset += count;
  return out;
}

export const cryptoRandom: RandomSource = { bytes: take };

const TIME_CHARS = 7;
const RANDOM_CHARS = 12;

/**
 * Prefixed ids (`acct_…`, `key_…`, `req_…`): 7 base62 characters of the time in milliseconds, then
 * 12 random ones (about 71 bits). Ids that grow with time are appended at the end of the tables'
 * indexes instead of landing on a random page each, which keeps each commit to a few pages.
 * Ids are identifiers, not secrets: API keys are generated elsewhere, from 131 random bits.
 */
export function newId(prefix: string, random: RandomSource = cryptoRandom, now = Date.now()): string {
  return `${prefix}_${toBase62(now, TIME_CHARS)}${randomBase62(RANDOM_CHARS, (count) => random.bytes(count))}`;
}
