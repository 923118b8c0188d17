import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HmacKeyHasher } from './hmac-key-hasher.js';

const SECRET = '0123456789abcdef0123456789abcdef';
const KEY = 'llmbase_0123456789ABCDEFGHIJKLmnopqr';

describe('HmacKeyHasher', () => {
  it('gives the same hash for the same key every time', () => {
    const hasher = new HmacKeyHasher(SECRET);
    expect(hasher.hash(KEY)).toBe(hasher.hash(KEY));
    expect(new HmacKeyHasher(SECRET).hash(KEY)).toBe(hasher.hash(KEY));
  });

  it('gives a different hash under a different secret', () => {
    expect(new HmacKeyHasher(SECRET).hash(KEY)).not.toBe(new HmacKeyHasher(`${SECRET}x`).hash(KEY));
  });

  it('gives different hashes for keys that differ in one character', () => {
    const hasher = new HmacKeyHasher(SECRET);
    expect(hasher.hash(KEY)).not.toBe(hasher.hash(`${KEY.slice(0, -1)}s`));
  });

  it('is a 64-character hex HMAC-SHA256 that does not contain the key', () => {
    const hash = new HmacKeyHasher(SECRET).hash(KEY);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(KEY);
    expect(hash).not.toContain(KEY.slice('llmbase_'.length));
    expect(hash).toBe(createHmac('sha256', SECRET).update(KEY).digest('hex'));
  });

  it('is not a plain hash of the key', () => {
    const hash = new HmacKeyHasher(SECRET).hash(KEY);
    expect(hash).not.toBe(createHmac('sha256', '').update(KEY).digest('hex'));
    expect(hash).not.toBe(createHmac('sha256', KEY).update('').digest('hex'));
  });

  it('compares equal hashes as equal and different ones as different', () => {
    const hasher = new HmacKeyHasher(SECRET);
    const hash = hasher.hash(KEY);
    expect(hasher.equal(hash, hasher.hash(KEY))).toBe(true);
    expect(hasher.equal(hash, hasher.hash(`${KEY}x`))).toBe(false);
  });

  it('compares strings of different lengths as different without throwing', () => {
    const hasher = new HmacKeyHasher(SECRET);
    const hash = hasher.hash(KEY);
    expect(hasher.equal(hash, hash.slice(0, -1))).toBe(false);
    expect(hasher.equal(hash, '')).toBe(false);
    expect(hasher.equal('', '')).toBe(true);
  });
});
