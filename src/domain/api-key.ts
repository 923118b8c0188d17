import { randomBase62, toBase62 } from './base62.js';
import { crc32 } from './crc32.js';

/**
 * API keys: `<brand>_<body>` for inference, `<brand>_chat_<body>` for chat agents.
 * The body is 22 base62 characters from a CSPRNG (about 131 bits) followed by a 6-character base62
 * CRC-32 of everything before it, so a mistyped key is refused without touching the database.
 */
export type KeyType = 'inference' | 'chat_agent';

const RANDOM_CHARS = 22;
const CHECKSUM_CHARS = 6;
const BODY = new RegExp(`^[0-9A-Za-z]{${RANDOM_CHARS + CHECKSUM_CHARS}}$`);

export function keyPrefix(brand: string, type: KeyType): string {
  return type === 'chat_agent' ? `${brand}_chat_` : `${brand}_`;
}

function checksum(text: string): string {
  return toBase62(crc32(text), CHECKSUM_CHARS);
}

export function generateApiKey(
  brand: string,
  type: KeyType,
  randomBytes: (count: number) => Uint8Array,
): string {
  const random = randomBase62(RANDOM_CHARS, randomBytes);
  const head = keyPrefix(brand, type) + random;
  return head + checksum(head);
}

/**
 * The type a well-formed key claims by its prefix, or undefined for anything malformed.
 * `brand_` is a prefix of `brand_chat_`, so the longer prefix is tried first. The type stored with
 * the key, not this claim, decides where a key may be used.
 */
export function parseApiKey(brand: string, token: string): KeyType | undefined {
  for (const type of ['chat_agent', 'inference'] as const) {
    const prefix = keyPrefix(brand, type);
    if (!token.startsWith(prefix)) continue;
    const body = token.slice(prefix.length);
    if (!BODY.test(body)) return undefined;
    const head = token.slice(0, token.length - CHECKSUM_CHARS);
    return checksum(head) === token.slice(-CHECKSUM_CHARS) ? type : undefined;
  }
  return undefined;
}

/** What the dashboard and CLI show of a key: its prefix and last four characters. */
export function keyHint(brand: string, type: KeyType, key: string): string {
  return `${keyPrefix(brand, type)}…${key.slice(-4)}`;
}
