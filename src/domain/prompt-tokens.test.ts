import { describe, expect, it } from 'vitest';
import {
  measurePrompt,
  type PromptSize,
  promptTokensCeiling,
  promptTokensEstimate,
  utf8Length,
} from './prompt-tokens.js';

describe('utf8Length', () => {
  it.each([
    ['plain ASCII', 'The quick brown fox', 19],
    ['an empty string', '', 0],
    ['accented Latin letters (two bytes each)', 'café naïve', 12],
    ['Greek and Cyrillic (two bytes each)', 'αβγ жзи', 13],
    ['CJK (three bytes each)', '你好世界', 12],
    ['a code point just below U+0800 and one at it', '\u07ff\u0800', 5],
    ['the euro sign (three bytes)', '€', 3],
    ['an emoji outside the BMP (four bytes)', '😀', 4],
    ['an emoji with a skin-tone modifier', '👋🏽', 8],
    ['a ZWJ family sequence', '👨‍👩‍👧', 18],
    ['a flag made of two regional indicators', '🇫🇷', 8],
    ['a mix of all of these', 'a é 中 😀 \n\t', 16],
  ])('agrees with Buffer.byteLength for %s', (_name, text, bytes) => {
    expect(Buffer.byteLength(text, 'utf8')).toBe(bytes);
    expect(utf8Length(text)).toBe(bytes);
  });

  it('agrees with Buffer.byteLength on every BMP code point outside the surrogate range', () => {
    let text = '';
    for (let code = 0; code < 0x10000; code++) {
      if (code < 0xd800 || code > 0xdfff) text += String.fromCharCode(code);
    }
    expect(utf8Length(text)).toBe(Buffer.byteLength(text));
  });

  it('agrees with Buffer.byteLength across the supplementary planes', () => {
    let text = '';
    for (let code = 0x10000; code <= 0x10ffff; code += 0x3f1) text += String.fromCodePoint(code);
    expect(utf8Length(text)).toBe(Buffer.byteLength(text));
  });

  it('never counts fewer bytes than Node for a lone low surrogate or a lone high surrogate at the end', () => {
    expect(utf8Length('\udc00')).toBeGreaterThanOrEqual(Buffer.byteLength('\udc00'));
    expect(utf8Length('ab\ud83d')).toBeGreaterThanOrEqual(Buffer.byteLength('ab\ud83d'));
  });

  it('never counts fewer bytes than Node when a lone high surrogate precedes a BMP character', () => {
    const text = '\ud800中'.repeat(1_000);
    expect(utf8Length(text)).toBeGreaterThanOrEqual(Buffer.byteLength(text));
  });
});

describe('measurePrompt', () => {
  it('counts string content and the role of each message', () => {
    const size = measurePrompt(
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'héllo' },
      ],
      [],
    );
    expect(size).toEqual({ textBytes: 'system'.length + 9 + 'user'.length + 6, messages: 2, images: 0 });
  });

  it('counts text parts by their text and each image part as one image, whatever the size of its URL', () => {
    const small = measurePrompt(
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
          ],
        },
      ],
      [],
    );
    const huge = measurePrompt(
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(1_000_000)}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/dog.png', detail: 'high' } },
          ],
        },
      ],
      [],
    );
    expect(small).toEqual({ textBytes: 13 + 4, messages: 1, images: 1 });
    expect(huge).toEqual({ textBytes: 13 + 4, messages: 1, images: 2 });
  });

  it('counts an unknown content part by its JSON', () => {
    const part = { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } };
    const size = measurePrompt([{ role: 'user', content: [part] }], []);
    expect(size.textBytes).toBe(JSON.stringify(part).length + 'user'.length);
  });

  it('counts tool calls, the tool call id and the name of a message', () => {
    const toolCalls = [
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ];
    const size = measurePrompt(
      [
        { role: 'assistant', content: null, tool_calls: toolCalls },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
        { role: 'user', name: 'alice', content: 'thanks' },
      ],
      [],
    );
    expect(size.textBytes).toBe(
      'assistant'.length +
        JSON.stringify(toolCalls).length +
        'tool'.length +
        'call_1'.length +
        Buffer.byteLength('18°C') +
        'user'.length +
        'alice'.length +
        'thanks'.length,
    );
    expect(size.messages).toBe(3);
  });

  it('counts tool definitions and response formats passed as extras, and skips absent ones', () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ];
    const format = { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } };
    const bare = measurePrompt([{ role: 'user', content: 'hi' }], [undefined, undefined]);
    const withExtras = measurePrompt([{ role: 'user', content: 'hi' }], [tools, format]);
    expect(bare.textBytes).toBe(6);
    expect(withExtras.textBytes).toBe(6 + JSON.stringify(tools).length + JSON.stringify(format).length);
  });

  it('counts multi-byte text in tool definitions by its UTF-8 size', () => {
    const tools = [{ type: 'function', function: { name: 'traduire', description: 'Traduit en 中文 😀' } }];
    const size = measurePrompt([], [tools]);
    expect(size.textBytes).toBe(Buffer.byteLength(JSON.stringify(tools)));
  });

  it('counts non-string, non-array content by its JSON and null content as nothing', () => {
    expect(measurePrompt([{ role: 'user', content: { odd: true } }], []).textBytes).toBe(
      'user'.length + '{"odd":true}'.length,
    );
    expect(measurePrompt([{ role: 'assistant', content: null }], []).textBytes).toBe('assistant'.length);
  });

  it('counts a message that is not an object as a message without text', () => {
    expect(measurePrompt(['stray', 42, null], [])).toEqual({ textBytes: 0, messages: 3, images: 0 });
  });

  it("counts the arguments of an assistant message's legacy function_call", () => {
    const size = measurePrompt(
      [
        {
          role: 'assistant',
          content: null,
          function_call: { name: 'f', arguments: 'x'.repeat(100_000) },
        },
      ],
      [],
    );
    expect(promptTokensCeiling(size)).toBeGreaterThanOrEqual(100_000);
  });
});

describe('prompt token ceiling and estimate', () => {
  it('add the per-message and per-request template allowance and a ceiling per image', () => {
    const size: PromptSize = { textBytes: 100, messages: 2, images: 1 };
    expect(promptTokensCeiling(size)).toBe(100 + 2 * 16 + 3_000 + 32);
    expect(promptTokensEstimate(size)).toBe(25 + 2 * 4 + 765);
  });

  it('give a ceiling of at least one token per UTF-8 byte of the text', () => {
    const text = '日本語のテキストと emoji 🎉 '.repeat(200);
    const size = measurePrompt([{ role: 'user', content: text }], []);
    expect(promptTokensCeiling(size)).toBeGreaterThanOrEqual(Buffer.byteLength(text));
  });

  it('keep the estimate at or below the ceiling for prompts of every shape', () => {
    const sizes: PromptSize[] = [];
    for (const textBytes of [0, 1, 3, 4, 5, 100, 12_345, 1_000_000]) {
      for (const messages of [0, 1, 7, 500]) {
        for (const images of [0, 1, 10]) sizes.push({ textBytes, messages, images });
      }
    }
    for (const size of sizes) {
      expect(promptTokensEstimate(size)).toBeLessThanOrEqual(promptTokensCeiling(size));
    }
  });
});
