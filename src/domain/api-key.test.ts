import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateApiKey, type KeyType, keyHint, keyPrefix, parseApiKey } from './api-key.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const csprng = (count: number): Uint8Array => randomBytes(count);

function replaceAt(text: string, index: number, char: string): string {
  return text.slice(0, index) + char + text.slice(index + 1);
}

describe('generated API keys', () => {
  it.each([
    ['inference', 'llmbase_'],
    ['chat_agent', 'llmbase_chat_'],
  ] as const)('of type %s start with %s and carry 28 base62 characters after it', (type, prefix) => {
    for (let i = 0; i < 50; i++) {
      const key = generateApiKey('llmbase', type, csprng);
      expect(key.startsWith(prefix)).toBe(true);
      expect(key.slice(prefix.length)).toMatch(/^[0-9A-Za-z]{28}$/);
      expect(key).toHaveLength(prefix.length + 28);
      expect(parseApiKey('llmbase', key)).toBe(type);
    }
  });

  it('use the brand they are generated for', () => {
    expect(keyPrefix('acme', 'inference')).toBe('acme_');
    expect(keyPrefix('acme', 'chat_agent')).toBe('acme_chat_');
    const key = generateApiKey('acme', 'chat_agent', csprng);
    expect(key.startsWith('acme_chat_')).toBe(true);
    expect(parseApiKey('acme', key)).toBe('chat_agent');
  });

  it('are distinct across 1000 generations from node:crypto', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 1_000; i++) keys.add(generateApiKey('llmbase', 'inference', csprng));
    expect(keys.size).toBe(1_000);
  });

  it('have random parts that are all distinct too, so distinctness is not only the checksum', () => {
    const bodies = new Set<string>();
    for (let i = 0; i < 1_000; i++) {
      bodies.add(generateApiKey('llmbase', 'chat_agent', csprng).slice('llmbase_chat_'.length, -6));
    }
    expect(bodies.size).toBe(1_000);
  });

  it('drop random bytes of 248 and above so that every character is equally likely', () => {
    let call = 0;
    const source = (count: number): Uint8Array => {
      call++;
      // First a batch of bytes that must all be dropped, then 0, 1, 2, ...
      return call === 1 ? new Uint8Array(count).fill(250) : Uint8Array.from({ length: count }, (_, i) => i);
    };
    const key = generateApiKey('llmbase', 'inference', source);
    expect(key.slice('llmbase_'.length, -6)).toBe(ALPHABET.slice(0, 22));
    expect(parseApiKey('llmbase', key)).toBe('inference');
  });

  it('map bytes to characters modulo 62', () => {
    const key = generateApiKey('llmbase', 'inference', (count) => new Uint8Array(count).fill(62 + 10));
    expect(key.slice('llmbase_'.length, -6)).toBe('A'.repeat(22));
  });
});

describe('parseApiKey', () => {
  it('reads a chat key as a chat key, never as an inference key, although llmbase_ prefixes llmbase_chat_', () => {
    for (let i = 0; i < 200; i++) {
      const key = generateApiKey('llmbase', 'chat_agent', csprng);
      expect(parseApiKey('llmbase', key)).toBe('chat_agent');
    }
  });

  it.each(['inference', 'chat_agent'] as const)(
    'refuses every one-character substitution anywhere in a %s key',
    (type: KeyType) => {
      const key = generateApiKey('llmbase', type, csprng);
      for (let index = 0; index < key.length; index++) {
        for (const char of `${ALPHABET}_-`) {
          if (char === key[index]) continue;
          const typo = replaceAt(key, index, char);
          expect(parseApiKey('llmbase', typo), typo).toBeUndefined();
        }
      }
    },
  );

  it('refuses two adjacent characters swapped', () => {
    const key = generateApiKey('llmbase', 'inference', csprng);
    for (let index = 'llmbase_'.length; index < key.length - 1; index++) {
      if (key[index] === key[index + 1]) continue;
      const swapped = key.slice(0, index) + key[index + 1] + key[index] + key.slice(index + 2);
      expect(parseApiKey('llmbase', swapped), swapped).toBeUndefined();
    }
  });

  it('refuses a key with a character missing or added', () => {
    const key = generateApiKey('llmbase', 'inference', csprng);
    expect(parseApiKey('llmbase', key.slice(0, -1))).toBeUndefined();
    expect(parseApiKey('llmbase', key.slice(1))).toBeUndefined();
    expect(parseApiKey('llmbase', `${key}a`)).toBeUndefined();
    expect(parseApiKey('llmbase', `${key.slice(0, 10)}a${key.slice(10)}`)).toBeUndefined();
  });

  it('refuses a key with surrounding whitespace or a changed letter case', () => {
    const key = generateApiKey('llmbase', 'inference', csprng);
    expect(parseApiKey('llmbase', ` ${key}`)).toBeUndefined();
    expect(parseApiKey('llmbase', `${key}\n`)).toBeUndefined();
    expect(parseApiKey('llmbase', key.toUpperCase())).toBeUndefined();
  });

  it("refuses another brand's keys, including brands that share a prefix with ours", () => {
    for (const brand of ['acme', 'llm', 'llmbasex', 'xllmbase']) {
      for (const type of ['inference', 'chat_agent'] as const) {
        const key = generateApiKey(brand, type, csprng);
        expect(parseApiKey('llmbase', key), key).toBeUndefined();
      }
    }
  });

  it('refuses an inference key of ours read under another brand', () => {
    const key = generateApiKey('llmbase', 'inference', csprng);
    expect(parseApiKey('acme', key)).toBeUndefined();
    expect(parseApiKey('llm', key)).toBeUndefined();
  });

  it('refuses keys shaped like other providers keys and empty input', () => {
    for (const token of ['', 'llmbase_', 'llmbase_chat_', 'sk-proj-abcdefghijklmnopqrstuvwxyz', 'Bearer x']) {
      expect(parseApiKey('llmbase', token)).toBeUndefined();
    }
  });

  it('refuses a checksum computed as if a chat key were an inference key', () => {
    const chat = generateApiKey('llmbase', 'chat_agent', csprng);
    // The same random part re-labelled as an inference key must not pass.
    const relabelled = `llmbase_${chat.slice('llmbase_chat_'.length)}`;
    expect(parseApiKey('llmbase', relabelled)).toBeUndefined();
  });
});

describe('keyHint', () => {
  it('shows the prefix and the last four characters only', () => {
    const inference = generateApiKey('llmbase', 'inference', csprng);
    const chat = generateApiKey('llmbase', 'chat_agent', csprng);
    expect(keyHint('llmbase', 'inference', inference)).toBe(`llmbase_…${inference.slice(-4)}`);
    expect(keyHint('llmbase', 'chat_agent', chat)).toBe(`llmbase_chat_…${chat.slice(-4)}`);
  });

  it('does not reveal the random part of the key', () => {
    const key = generateApiKey('llmbase', 'inference', csprng);
    const hint = keyHint('llmbase', 'inference', key);
    expect(hint).not.toContain(key.slice('llmbase_'.length, -4));
    expect(hint.length).toBeLessThan(16);
  });
});
