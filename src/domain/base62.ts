/** Base62, the alphabet of keys and ids: safe in URLs, headers and shells, selectable with a double-click. */
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 248 is the largest multiple of 62 below 256: bytes above it are dropped so every character is equally likely. */
const UNBIASED_BYTE_LIMIT = 248;

/** `value` in base62, left-padded with zeros to `width` characters. */
export function toBase62(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

/** `length` uniformly random base62 characters drawn from a source of random bytes. */
export function randomBase62(length: number, randomBytes: (count: number) => Uint8Array): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length + 8)) {
      if (byte < UNBIASED_BYTE_LIMIT) out += ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}
