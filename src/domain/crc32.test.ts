import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.js';

describe('crc32', () => {
  it('gives the standard CRC-32 check value for "123456789"', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
  });

  it('matches well-known CRC-32 values', () => {
    expect(crc32('')).toBe(0);
    expect(crc32('a')).toBe(0xe8b7be43);
    expect(crc32('The quick brown fox jumps over the lazy dog')).toBe(0x414fa339);
  });

  it('always returns an unsigned 32-bit integer', () => {
    for (const text of ['', 'x', 'llmbase_abc', '\u00ff'.repeat(40), 'z'.repeat(1_000)]) {
      const value = crc32(text);
      expect(Number.isInteger(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(0xffffffff);
    }
  });

  it('changes when any single character changes', () => {
    const base = 'llmbase_0123456789ABCDEFGHIJKL';
    const seen = new Set<number>([crc32(base)]);
    for (let i = 0; i < base.length; i++) {
      const changed = base.slice(0, i) + (base[i] === 'q' ? 'r' : 'q') + base.slice(i + 1);
      expect(crc32(changed)).not.toBe(crc32(base));
      seen.add(crc32(changed));
    }
    expect(seen.size).toBe(base.length + 1);
  });
});
