import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventData, SseEventSplitter } from '../sse-events.js';
import { convertRequest } from './convert-request.js';
import { convertResponse } from './convert-response.js';
import { AnthropicStreamConverter } from './convert-stream.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url));

function streamChunks(name: string, includeUsage: boolean) {
  const converter = new AnthropicStreamConverter('claude-sonnet-4-5', 1_700_000_000, includeUsage);
  const chunks = new SseEventSplitter()
    .push(fixture(name))
    .flatMap((event) => converter.push(JSON.parse(eventData(event)) as Record<string, unknown>));
  return {
    converter,
    chunks: chunks as {
      choices: { delta: Record<string, unknown>; finish_reason: string | null }[];
      usage?: unknown;
    }[],
  };
}

describe('OpenAI request → Anthropic Messages request', () => {
  it('moves system prompts out, merges turns, and carries tool calls and results', () => {
    const body = convertRequest({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      top_p: 0.9,
      stop: 'END',
      user: 'user-42',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: 'Use metric units.' },
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'And this picture?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C, sunny' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Current weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ],
      tool_choice: 'required',
    });
    expect(body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      system: 'Be brief.\n\nUse metric units.',
      stream: true,
      temperature: 0.2,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'user-42' },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather in Paris?' },
            { type: 'text', text: 'And this picture?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          ],
        },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: '18°C, sunny' }] },
      ],
      tools: [
        {
          name: 'get_weather',
          description: 'Current weather',
          input_schema: { type: 'object', properties: { city: { type: 'string' } } },
        },
      ],
      tool_choice: { type: 'any' },
    });
  });

  it('takes the bounded limit from max_completion_tokens too, and names a forced tool', () => {
    const body = convertRequest({
      model: 'm',
      max_completion_tokens: 77,
      messages: [{ role: 'user', content: 'Hi' }],
      tool_choice: { type: 'function', function: { name: 'lookup' } },
    });
    expect(body).toMatchObject({ max_tokens: 77, tool_choice: { type: 'tool', name: 'lookup' } });
    expect(body).not.toHaveProperty('stream');
  });
});

describe('Anthropic response → OpenAI chat.completion', () => {
  it('converts text, tool use, the stop reason and usage with cache tokens', () => {
    const response = convertResponse(JSON.parse(fixture('tool-use.response.json').toString()), 1_700_000_000);
    expect(response).toEqual({
      id: 'msg_01Aq9w938a90dw8q',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'claude-sonnet-4-5',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: "I'll check the current weather in San Francisco for you.",
            tool_calls: [
              {
                id: 'toolu_01A09q90qw90lq917835lq9',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA"}' },
              },
            ],
            refusal: null,
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: {
        prompt_tokens: 3195,
        completion_tokens: 503,
        total_tokens: 3698,
        prompt_tokens_details: { cached_tokens: 1000, cache_write_tokens: 100 },
      },
    });
  });
});

describe('Anthropic stream → OpenAI chunks', () => {
  it('turns text deltas into content deltas, ends with the finish reason, and reports usage when asked', () => {
    const { converter, chunks } = streamChunks('text.chunks.txt', true);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello!');
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 25, completion_tokens: 15, total_tokens: 40 },
    });
    expect(converter.done).toBe(true);
    expect(converter.reportedUsage).toMatchObject({ prompt_tokens: 25, completion_tokens: 15 });
  });

  it('leaves the usage chunk out for a client that did not ask, but still knows the usage', () => {
    const { converter, chunks } = streamChunks('text.chunks.txt', false);
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
    expect(converter.reportedUsage?.completion_tokens).toBe(15);
  });

  it('streams a tool call as tool_calls deltas whose arguments add up to the JSON input', () => {
    const { chunks } = streamChunks('tool-use.chunks.txt', false);
    const calls = chunks.flatMap(
      (c) =>
        (c.choices[0]?.delta.tool_calls as {
          index: number;
          id?: string;
          function: { name?: string; arguments: string };
        }[]) ?? [],
    );
    expect(calls[0]).toMatchObject({
      index: 0,
      id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
      function: { name: 'get_weather' },
    });
    expect(JSON.parse(calls.map((c) => c.function.arguments).join(''))).toEqual({
      location: 'San Francisco, CA',
    });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Let me check the weather.');
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('remembers an error event and ends', () => {
    const converter = new AnthropicStreamConverter('m', 0, false);
    converter.push({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    expect(converter.done).toBe(true);
    expect(converter.error).toEqual({ type: 'overloaded_error', message: 'Overloaded' });
  });
});

describe('a stream cut before its end', () => {
  it('reports no usage until message_delta brings the final count, so the relayed output is charged', () => {
    const converter = new AnthropicStreamConverter('m', 0, false);
    converter.push({
      type: 'message_start',
      message: { id: 'msg_1', model: 'm', usage: { input_tokens: 25, output_tokens: 1 } },
    });
    converter.push({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } });
    expect(converter.reportedUsage).toBeUndefined();
    converter.push({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn' },
      usage: { output_tokens: 9 },
    });
    expect(converter.reportedUsage).toMatchObject({ prompt_tokens: 25, completion_tokens: 9 });
  });
});
