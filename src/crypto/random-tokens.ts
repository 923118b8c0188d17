import { createHash, randomBytes } from 'node:crypto';
import type { TokenIssuer } from '../ports/users.js';

/**
 * Session ids and link tokens: 256 random bits, base64url. They are stored as plain SHA-256: with
 * that much entropy no salt or slow hash is needed (OWASP), and a lookup stays one index probe.
 */
export const randomTokens: TokenIssuer = {
  issue() {
    const token = randomBytes(32).toString('base64url');
    return { token, hash: sha256(token) };
  },
  hash: sha256,
};

function sha256(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
