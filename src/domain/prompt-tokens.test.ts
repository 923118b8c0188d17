import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PROMPT_ALLOWANCE,
  measureChatPrompt,
  measureCompletionsPrompt,
  measurePrompt,
  type PromptSize,
  promptTokensCeiling,
  utf8Length,
} from './prompt-tokens.js';

/** A prompt size with nothing but what is given. */
function sized(fields: Partial<PromptSize>): PromptSize {
  return { textBytes: 0, messages: 0, images: 0, files: 0, audios: 0, audioBytes: 0, prompts: 1, ...fields };
}

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
    expect(size).toEqual(sized({ textBytes: 'system'.length + 9 + 'user'.length + 6, messages: 2 }));
  });

  it('counts text parts by their values and each image part as one image, whatever the size of its URL', () => {
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
    // 'text' and 'image_url' are the parts' types; 'high' is the detail: every value forwarded counts.
    expect(small).toEqual(sized({ textBytes: 4 + 13 + 9 + 4, messages: 1, images: 1 }));
    expect(huge).toEqual(sized({ textBytes: 4 + 13 + 9 + 9 + 4 + 4, messages: 1, images: 2 }));
  });

  it('counts a file part as one file, without its data, and keeps its file name', () => {
    const part = { type: 'file', file: { filename: 'report.pdf', file_data: 'JVBERi0'.repeat(100_000) } };
    const size = measurePrompt([{ role: 'user', content: [part] }], []);
    expect(size).toEqual(
      sized({ textBytes: 4 + 'file'.length + 'report.pdf'.length, messages: 1, files: 1 }),
    );
  });

  it('counts an audio part as one audio part, with the size of its data apart', () => {
    const part = { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } };
    const size = measurePrompt([{ role: 'user', content: [part] }], []);
    expect(size).toEqual(
      sized({ textBytes: 4 + 'input_audio'.length + 'wav'.length, messages: 1, audios: 1, audioBytes: 8 }),
    );
  });

  it('counts a content part of a kind it does not know by its JSON', () => {
    const part = { type: 'video_url', video_url: { url: 'https://example.com/v.mp4' } };
    const size = measurePrompt([{ role: 'user', content: [part] }], []);
    expect(size.textBytes).toBe(4 + JSON.stringify(part).length);
  });

  it('counts every field of a message: reasoning, refusals, audio transcripts and fields it does not know', () => {
    const reasoning = 'r'.repeat(100_000);
    const size = measurePrompt(
      [
        {
          role: 'assistant',
          content: 'ok',
          reasoning_content: reasoning,
          refusal: 'no',
          audio: { id: 'audio_1', transcript: 'spoken words' },
          vendor_notes: { text: 'x'.repeat(16_000) },
        },
      ],
      [],
    );
    expect(size.textBytes).toBe(
      'assistant'.length +
        2 +
        reasoning.length +
        2 +
        JSON.stringify({ id: 'audio_1', transcript: 'spoken words' }).length +
        JSON.stringify({ text: 'x'.repeat(16_000) }).length,
    );
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
    expect(measurePrompt(['stray', 42, null], [])).toEqual(sized({ messages: 3 }));
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

describe('prompt token ceiling', () => {
  it('add the per-message and per-request template allowance and a ceiling per image', () => {
    const size = sized({ textBytes: 100, messages: 2, images: 1 });
    expect(promptTokensCeiling(size)).toBe(100 + 2 * 16 + 3_000 + 32);
  });

  it('give a ceiling of at least one token per UTF-8 byte of the text', () => {
    const text = '日本語のテキストと emoji 🎉 '.repeat(200);
    const size = measurePrompt([{ role: 'user', content: text }], []);
    expect(promptTokensCeiling(size)).toBeGreaterThanOrEqual(Buffer.byteLength(text));
  });
});

describe('measureChatPrompt', () => {
  const messages = [{ role: 'user', content: 'hi' }];

  it('counts every top-level field forwarded, and none that Tollgate sets itself', () => {
    const controlled = measureChatPrompt({
      model: 'a-very-long-model-name',
      messages,
      max_tokens: 100,
      max_completion_tokens: 100,
      stream: true,
      stream_options: { include_usage: true },
      n: 1,
    });
    expect(controlled.textBytes).toBe('user'.length + 2);
    const documents = [{ title: 'doc', text: 'd'.repeat(50_000) }];
    const prediction = { type: 'content', content: 'p'.repeat(20_000) };
    const extra = { anything: 'u'.repeat(30_000) };
    const size = measureChatPrompt({ model: 'm', messages, documents, prediction, vendor_field: extra });
    expect(size.textBytes).toBe(
      'user'.length +
        2 +
        JSON.stringify(documents).length +
        JSON.stringify(prediction).length +
        JSON.stringify(extra).length,
    );
  });

  it('counts the tools, functions and response format as before', () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
    const format = { type: 'json_object' };
    const size = measureChatPrompt({
      model: 'm',
      messages,
      tools,
      response_format: format,
      temperature: 0.5,
    });
    expect(size.textBytes).toBe(6 + JSON.stringify(tools).length + JSON.stringify(format).length + 3);
  });
});

describe('measureCompletionsPrompt', () => {
  it('counts each prompt, a token array at one token an entry, and the other fields once a prompt', () => {
    const body = { model: 'm', prompt: [], max_tokens: 400, suffix: 'end', echo: false };
    const size = measureCompletionsPrompt(['héllo', [1, 2, 3], 'x'.repeat(1_000)], body);
    expect(size).toEqual(
      sized({ textBytes: 6 + 3 + 1_000 + 3 * ('end'.length + 'false'.length), messages: 3, prompts: 3 }),
    );
  });

  it('holds an empty prompt array as one prompt', () => {
    expect(measureCompletionsPrompt([], { model: 'm', prompt: [] })).toEqual(sized({ messages: 1 }));
  });
});

describe('promptTokensCeiling with a model allowance', () => {
  it("uses the model's allowance for each image, file and audio part", () => {
    const size = sized({ textBytes: 10, messages: 1, images: 2, files: 1, audios: 3, audioBytes: 90_000 });
    const allowance = { imageTokens: 1_000, fileTokens: 50_000, audioTokens: 600, overheadTokens: 0 };
    expect(promptTokensCeiling(size, allowance)).toBe(10 + 16 + 2_000 + 50_000 + 1_800 + 32);
  });

  it('holds audio parts at the size of their data when the model sets no allowance for them', () => {
    const size = sized({ audios: 3, audioBytes: 90_000 });
    expect(promptTokensCeiling(size, DEFAULT_PROMPT_ALLOWANCE)).toBe(90_000 + 32);
  });

  it("adds the provider's overhead to each prompt the provider reads", () => {
    const allowance = { ...DEFAULT_PROMPT_ALLOWANCE, overheadTokens: 600 };
    expect(promptTokensCeiling(sized({ prompts: 1 }), allowance)).toBe(32 + 600);
    expect(promptTokensCeiling(sized({ prompts: 5 }), allowance)).toBe(5 * (32 + 600));
  });
});
