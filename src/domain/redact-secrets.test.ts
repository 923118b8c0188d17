import { describe, expect, it } from 'vitest';
import { secretRedactor } from './redact-secrets.js';

/** Keys are built at run time: no real-looking credential is committed. */
const mistralStyle = (seed: string) => Array.from({ length: 32 }, (_, i) => seed[i % seed.length]).join('');

describe('secretRedactor', () => {
  it('removes every occurrence of each secret, however it is shaped', () => {
    const a = mistralStyle('Kp4w');
    const b = mistralStyle('9xTe');
    const redact = secretRedactor([a, b]);
    expect(redact(`first ${a}, then ${b} and ${a} again`)).toBe(
      'first [redacted], then [redacted] and [redacted] again',
    );
  });

  it('removes a longer secret whole when it contains a shorter one', () => {
    const short = mistralStyle('ab12');
    const redact = secretRedactor([short, `${short}-extended`]);
    expect(redact(`key ${short}-extended`)).toBe('key [redacted]');
  });

  it('leaves text alone when no secret is configured, and ignores placeholders too short to be secrets', () => {
    expect(secretRedactor([])('ollama none')).toBe('ollama none');
    expect(secretRedactor(['ollama', 'none'])('ollama none')).toBe('ollama none');
  });
});
