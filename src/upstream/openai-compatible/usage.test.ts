import { describe, expect, it } from 'vitest';
import { usageFromJson } from './usage.js';

const completion = (content: string, usage: unknown) =>
  Buffer.from(
    JSON.stringify({
      id: 'c1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage,
    }),
  );

describe('usage read from a JSON answer without parsing it whole', () => {
  it('finds the usage object, nested details included', () => {
    const usage = {
      prompt_tokens: 12,
      completion_tokens: 34,
      total_tokens: 46,
      prompt_tokens_details: { cached_tokens: 0 },
    };
    expect(usageFromJson(completion('Hello', usage))).toEqual({ promptTokens: 12, completionTokens: 34 });
  });

  it('is not fooled by an answer whose text talks about usage', () => {
    const text = 'Here is JSON: {"usage": {"prompt_tokens": 1, "completion_tokens": 1}} and a brace }';
    expect(usageFromJson(completion(text, { prompt_tokens: 7, completion_tokens: 8 }))).toEqual({
      promptTokens: 7,
      completionTokens: 8,
    });
  });

  it('gives up, for a full parse, when usage is missing, null or malformed', () => {
    expect(usageFromJson(completion('Hi', undefined))).toBeUndefined();
    expect(usageFromJson(completion('Hi', null))).toBeUndefined();
    expect(usageFromJson(Buffer.from('{"usage": {"prompt_tokens": 1, '))).toBeUndefined();
    expect(
      usageFromJson(Buffer.from('{"usage": {"prompt_tokens": "many", "completion_tokens": 1}}')),
    ).toBeUndefined();
  });

  it('reads pretty-printed answers too', () => {
    const pretty = Buffer.from(
      JSON.stringify({ usage: { prompt_tokens: 3, completion_tokens: 4 } }, null, 2),
    );
    expect(usageFromJson(pretty)).toEqual({ promptTokens: 3, completionTokens: 4 });
  });
});

describe('cached prompt tokens an OpenAI-compatible server reports', () => {
  it('are kept apart as cache reads (and writes, as gateways in front of Anthropic report them)', () => {
    expect(
      usageFromJson(
        completion('Hi', {
          prompt_tokens: 100,
          completion_tokens: 5,
          prompt_tokens_details: { cached_tokens: 60, cache_write_tokens: 30 },
        }),
      ),
    ).toEqual({ promptTokens: 100, completionTokens: 5, cacheReadTokens: 60, cacheWriteTokens: 30 });
  });
});
