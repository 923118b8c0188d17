import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateApiKey, keyHint, parseApiKey } from './api-key.js';
import { crc32 } from './crc32.js';

const random = (count: number) => randomBytes(count);

describe('API keys', () => {
  it('have the brand prefix, 28 base62 characters, and parse back to their type', () => {
    const inference = generateApiKey('llmbase', 'inference', random);
    const agent = generateApiKey('llmbase', 'chat_agent', random);
    expect(inference).toMatch(/^llmbase_[0-9A-Za-z]{28}$/);
    expect(agent).toMatch(/^llmbase_chat_[0-9A-Za-z]{28}$/);
    expect(parseApiKey('llmbase', inference)).toBe('inference');
    expect(parseApiKey('llmbase', agent)).toBe('chat_agent');
  });

  it('are never read as an inference key when they are chat keys, although llmbase_ prefixes llmbase_chat_', () => {
    for (let i = 0; i < 200; i++) {
      expect(parseApiKey('llmbase', generateApiKey('llmbase', 'chat_agent', random))).toBe('chat_agent');
    }
  });

  it('refuse a one-character typo by their checksum', () => {
    const key = generateApiKey('llmbase', 'inference', random);
    for (let position = 'llmbase_'.length; position < key.length; position++) {
      const replacement = key[position] === 'x' ? 'y' : 'x';
      expect(
        parseApiKey('llmbase', key.slice(0, position) + replacement + key.slice(position + 1)),
      ).toBeUndefined();
    }
  });

  it("refuse another brand's key, a truncated key and stray characters", () => {
    const key = generateApiKey('other', 'inference', random);
    expect(parseApiKey('llmbase', key)).toBeUndefined();
    expect(
      parseApiKey('llmbase', generateApiKey('llmbase', 'inference', random).slice(0, -1)),
    ).toBeUndefined();
    expect(parseApiKey('llmbase', 'llmbase_!!!!!!!!!!!!!!!!!!!!!!!!!!!!')).toBeUndefined();
  });

  it('are distinct across many generations from the CSPRNG', () => {
    const keys = new Set(Array.from({ length: 2000 }, () => generateApiKey('llmbase', 'inference', random)));
    expect(keys.size).toBe(2000);
  });

  it('show only their prefix and last four characters as a hint', () => {
    const key = generateApiKey('llmbase', 'chat_agent', random);
    expect(keyHint('llmbase', 'chat_agent', key)).toBe(`llmbase_chat_…${key.slice(-4)}`);
  });

  it('use the standard CRC-32', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
  });
});
