import { describe, expect, it } from 'vitest';
import { measurePrompt, promptTokensCeiling, promptTokensEstimate, utf8Length } from './prompt-tokens.js';

describe('prompt token ceilings', () => {
  it('measures UTF-8 exactly for ASCII, accents, CJK and emoji', () => {
    for (const text of ['hello', 'héllo wörld', '你好，世界', '👋🏽 family 👨‍👩‍👧', '']) {
      expect(utf8Length(text)).toBe(Buffer.byteLength(text));
    }
  });

  it('counts text parts, prices images per image, and includes tool calls and tool definitions', () => {
    const size = measurePrompt(
      [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(100_000)}` } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
      ],
      [[{ type: 'function', function: { name: 'f', parameters: {} } }]],
    );
    expect(size.images).toBe(1);
    expect(size.messages).toBe(3);
    // The image's 100 kB of base64 are not counted as text.
    expect(size.textBytes).toBeLessThan(1_000);
    expect(size.textBytes).toBeGreaterThan('Be brief.What is in this image?'.length);
  });

  it('keeps the estimate below the ceiling', () => {
    const size = measurePrompt([{ role: 'user', content: 'word '.repeat(500) }], []);
    expect(promptTokensEstimate(size)).toBeLessThan(promptTokensCeiling(size));
    expect(promptTokensCeiling(size)).toBeGreaterThanOrEqual(2_500);
  });
});
