import { beforeAll, describe, expect, it } from 'vitest';
import { tokenCounter } from '../services/token-counter.js';
import { measureChatPrompt, promptTokensCeiling } from './prompt-tokens.js';
import {
  type CountTokens,
  chatPromptTokens,
  completionsPromptTokens,
  countBounded,
  outputTokens,
  textInputTokens,
} from './token-estimate.js';

let count: CountTokens;
beforeAll(async () => {
  count = await tokenCounter();
}, 60_000);

const PROSE =
  'A stream cut short is charged for the text that reached the client, counted with a tokenizer. ';
const CODE = 'export function add(a: number, b: number): number {\n  return a + b; // sum\n}\n';
const CJK = '日本語の文章とかな交じり文、そして中文的句子。';

describe('countBounded', () => {
  it('counts a text up to 32 K characters exactly', () => {
    const text = PROSE.repeat(300);
    expect(text.length).toBeLessThanOrEqual(32_768);
    expect(countBounded(count, text)).toBe(count(text));
  });

  it.each([
    ['prose', PROSE],
    ['code', CODE],
    ['CJK text', CJK],
  ])('samples a long text of %s to within 2% of its exact count', (_kind, unit) => {
    const text = unit.repeat(Math.ceil(400_000 / unit.length));
    const exact = count(text);
    const estimate = countBounded(count, text);
    expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.02);
  });

  it('tokenizes at most 32 K characters of a text of any length', () => {
    let counted = 0;
    const spy: CountTokens = (text) => {
      counted += text.length;
      return count(text);
    };
    countBounded(spy, PROSE.repeat(50_000));
    expect(counted).toBeLessThanOrEqual(32_768);
  });

  it('counts special-token markers as the plain text they are', () => {
    expect(countBounded(count, 'before <|endoftext|> after')).toBeGreaterThan(3);
  });
});

describe('chatPromptTokens', () => {
  it('counts each message’s text and adds the chat format’s tokens a message and for the reply', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: PROSE },
    ];
    expect(chatPromptTokens(count, { model: 'm', messages, max_tokens: 9, temperature: 0.5 })).toBe(
      count(['system', 'Be brief.', 'user', PROSE].join('\n')) + 2 * 3 + 3,
    );
  });

  it('counts text parts, names, tool calls and tool definitions, and images by a fixed allowance', () => {
    const image = { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(100_000)}` } };
    const plain = chatPromptTokens(count, {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    });
    const withImage = chatPromptTokens(count, {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }, image] }],
    });
    expect(withImage - plain).toBe(765);
    const toolCall = {
      role: 'assistant',
      content: null,
      name: 'helper',
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }],
    };
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
    expect(chatPromptTokens(count, { messages: [toolCall], tools })).toBeGreaterThan(
      chatPromptTokens(count, { messages: [{ role: 'assistant', content: null }] }) + 20,
    );
  });

  it('stays at or below the hold’s ceiling for text, images and tools', () => {
    const shapes: Record<string, unknown>[] = [
      { messages: [{ role: 'user', content: 'Hi' }] },
      { messages: [{ role: 'user', content: CJK.repeat(100) }], documents: [{ text: PROSE }] },
      {
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }],
      },
      {
        messages: [{ role: 'user', content: CODE.repeat(30), name: 'dev' }],
        tools: [{ type: 'function', function: { name: 'f' } }],
        response_format: { type: 'json_object' },
      },
    ];
    for (const body of shapes) {
      expect(chatPromptTokens(count, body)).toBeLessThanOrEqual(promptTokensCeiling(measureChatPrompt(body)));
    }
  });
});

describe('completionsPromptTokens', () => {
  it('counts each prompt, and the other forwarded text once a prompt', () => {
    expect(completionsPromptTokens(count, [PROSE], { model: 'm', prompt: PROSE, max_tokens: 5 })).toBe(
      count(PROSE),
    );
    expect(completionsPromptTokens(count, [PROSE, [1, 2, 3]], { prompt: [], suffix: CODE })).toBe(
      count(PROSE) + 3 + 2 * count(CODE),
    );
  });
});

describe('textInputTokens', () => {
  it('counts a text, a list of texts, and token arrays one token an entry', () => {
    expect(textInputTokens(count, PROSE)).toBe(count(PROSE));
    expect(textInputTokens(count, [PROSE, CODE])).toBe(count(`${PROSE}\n${CODE}`));
    expect(textInputTokens(count, [1, 2, 3])).toBe(3);
    expect(textInputTokens(count, [[1, 2], [3]])).toBe(3);
  });
});

describe('outputTokens', () => {
  it('counts the relayed text, and nothing for none', () => {
    expect(outputTokens(count, PROSE)).toBe(count(PROSE));
    expect(outputTokens(count, '')).toBe(0);
  });
});
