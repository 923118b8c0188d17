import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import type { KeyHasher } from '../ports/keys.js';

/**
 * Keys are stored as HMAC-SHA256 under the operator's secret: a leaked database alone cannot be
 * used to test guesses offline, unlike a plain hash of a key.
 */
export class HmacKeyHasher implements KeyHasher {
  /** Imported once: a string secret is converted into a key on every call (about 0.3 µs a request). */
  private readonly secret: KeyObject;

  constructor(secret: string) {
    this.secret = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  hash(key: string): string {
    return createHmac('sha256', this.secret).update(key).digest('hex');
  }

  equal(a: string, b: string): boolean {
    const left = Buffer.from(a);
    const right = Buffer.from(b);
    return left.length === right.length && timingSafeEqual(left, right);
  }
}
