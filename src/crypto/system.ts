import { randomBytes } from 'node:crypto';
import type { Clock, RandomSource } from '../ports/system.js';

export const systemClock: Clock = { now: () => Date.now() };

export const cryptoRandom: RandomSource = { bytes: (count) => randomBytes(count) };

const ID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Prefixed ids (`acct_…`, `key_…`, `req_…`): 16 base62 characters, about 95 bits. */
export function newId(prefix: string, random: RandomSource = cryptoRandom): string {
  let body = '';
  for (const byte of random.bytes(24)) {
    if (byte < 248) body += ID_ALPHABET[byte % 62];
    if (body.length === 16) break;
  }
  // 24 bytes yield 16 unbiased characters with overwhelming probability; top up in the rare case they do not.
  return body.length === 16 ? `${prefix}_${body}` : newId(prefix, random);
}
