import { crc32 } from './crc32.js';

/**
 * API keys: `<brand>_<body>` for inference, `<brand>_chat_<body>` for chat agents.
 * The body is 22 base62 characters from a CSPRNG (about 131 bits) followed by a 6-character base62
 * CRC-32 of everything before it, so a mistyped key is refused without touching the database.
 */
export type KeyType = 'inference' | 'chat_agent';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_CHARS = 22;
const CHECKSUM_CHARS = 6;
const BODY = new RegExp(`^[0-9A-Za-z]{${RANDOM_CHARS + CHECKSUM_CHARS}}$`);
/** 248 is the largest multiple of 62 below 256: bytes above it are dropped so every character is equally likely. */
const UNBIASED_BYTE_LIMIT = 248;

export function keyPrefix(brand: string, type: KeyType): string {
  return type === 'chat_agent' ? `${brand}_chat_` : `${brand}_`;
}

function toBase62(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

function checksum(text: string): string {
  return toBase62(crc32(text), CHECKSUM_CHARS);
}

export function generateApiKey(
  brand: string,
  type: KeyType,
  randomBytes: (count: number) => Uint8Array,
): string {
  let random = '';
  while (random.length < RANDOM_CHARS) {
    for (const byte of randomBytes(32)) {
      if (byte < UNBIASED_BYTE_LIMIT && random.length < RANDOM_CHARS) random += ALPHABET[byte % 62];
    }
  }
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
