import { describe, expect, it } from 'vitest';
import {
  type ChatRequest,
  chatRequestSchema,
  parseChatRequest,
  requestedLimit,
  upstreamBody,
} from './chat-request.js';

const messages = [{ role: 'user', content: 'Hello' }];

function parsed(body: unknown): ChatRequest {
  const result = parseChatRequest(body);
  if (!result.ok) throw new Error(`expected a valid request, got ${JSON.stringify(result.failure)}`);
  return result.request;
}

function refused(body: unknown) {
  const result = parseChatRequest(body);
  if (result.ok) throw new Error('expected the request to be refused');
  return result.failure;
}

describe('parseChatRequest', () => {
  it('gives what the schema gives for valid requests, whichever way it checks them', () => {
    for (const body of [
      { model: 'm', messages },
      { model: 'm', messages, stream: true, stream_options: { include_usage: true, extra: 1 } },
      { model: 'm', messages, stream: null, stream_options: null, n: null, max_tokens: null },
      { model: 'm', messages, max_tokens: 16, max_completion_tokens: 8, n: 1, tools: [{ type: 'function' }] },
      { model: 'm', messages: [{ role: 'tool', content: [{ type: 'text', text: 'x' }], tool_call_id: 'c' }] },
      { model: 'm', messages, max_tokens: 2 ** 53 + 2, tools: null },
      { model: 'm', messages, temperature: 0.5, some_new_param: { deep: [1, 2] } },
    ]) {
      const schema = chatRequestSchema.safeParse(body);
      const result = parseChatRequest(body);
      expect(result.ok).toBe(schema.success);
      if (result.ok) expect(result.request).toEqual(schema.data);
    }
  });

  it('accepts a minimal request and keeps fields it does not know', () => {
    const request = parsed({ model: 'flash', messages, temperature: 0.2, seed: 7, some_new_param: { a: 1 } });
    expect(request).toMatchObject({
      model: 'flash',
      messages,
      temperature: 0.2,
      seed: 7,
      some_new_param: { a: 1 },
    });
  });

  it('keeps unknown fields of messages too', () => {
    const request = parsed({
      model: 'm',
      messages: [{ role: 'user', content: 'x', cache_control: { t: 1 } }],
    });
    expect(request.messages[0]).toEqual({ role: 'user', content: 'x', cache_control: { t: 1 } });
  });

  it('accepts null for the optional fields OpenAI SDKs may send as null', () => {
    expect(
      parseChatRequest({
        model: 'm',
        messages,
        stream: null,
        stream_options: null,
        max_tokens: null,
        max_completion_tokens: null,
        n: null,
      }).ok,
    ).toBe(true);
  });

  it('refuses a body that is not a JSON object, saying so', () => {
    for (const body of [null, 'text', 42, [], [{ model: 'm', messages }]]) {
      const failure = refused(body);
      expect(failure.code).toBe('invalid_request');
      expect(failure.message).toBe('The request body must be a JSON object.');
    }
  });

  it.each([
    ['a missing model', { messages }, 'model'],
    ['an empty model', { model: '', messages }, 'model'],
    ['a model that is not a string', { model: 4, messages }, 'model'],
    ['missing messages', { model: 'm' }, 'messages'],
    ['messages that are not an array', { model: 'm', messages: 'hi' }, 'messages'],
    ['an empty messages array', { model: 'm', messages: [] }, 'messages'],
    ['a message without a role', { model: 'm', messages: [{ content: 'x' }] }, 'messages.0.role'],
    [
      'a second message that is not an object',
      { model: 'm', messages: [{ role: 'user', content: 'x' }, 'oops'] },
      'messages.1',
    ],
    ['stream that is not a boolean', { model: 'm', messages, stream: 'yes' }, 'stream'],
    [
      'include_usage that is not a boolean',
      { model: 'm', messages, stream_options: { include_usage: 'yes' } },
      'stream_options.include_usage',
    ],
    ['max_tokens of zero', { model: 'm', messages, max_tokens: 0 }, 'max_tokens'],
    ['a negative max_tokens', { model: 'm', messages, max_tokens: -5 }, 'max_tokens'],
    ['a fractional max_tokens', { model: 'm', messages, max_tokens: 10.5 }, 'max_tokens'],
    ['max_tokens as a string', { model: 'm', messages, max_tokens: '100' }, 'max_tokens'],
    [
      'max_completion_tokens of zero',
      { model: 'm', messages, max_completion_tokens: 0 },
      'max_completion_tokens',
    ],
    ['n of 2', { model: 'm', messages, n: 2 }, 'n'],
    ['best_of of 3', { model: 'm', messages, best_of: 3 }, 'best_of'],
    ['tools that are not an array', { model: 'm', messages, tools: {} }, 'tools'],
  ])('refuses %s and names the parameter', (_name, body, param) => {
    const failure = refused(body);
    expect(failure.code).toBe('invalid_request');
    expect(failure.param).toBe(param);
    expect(failure.message).toContain(`Invalid value for ${param}:`);
  });

  it('explains that only one choice is supported', () => {
    expect(refused({ model: 'm', messages, n: 3 }).message).toContain('only n=1 is supported');
  });

  it('explains that only one candidate is supported', () => {
    expect(refused({ model: 'm', messages, best_of: 5 }).message).toContain('only best_of=1 is supported');
  });

  it('accepts n=1', () => {
    expect(parsed({ model: 'm', messages, n: 1 }).n).toBe(1);
  });
});

describe('requestedLimit', () => {
  it('prefers max_completion_tokens over max_tokens', () => {
    expect(
      requestedLimit(parsed({ model: 'm', messages, max_tokens: 10, max_completion_tokens: 20 })),
    ).toEqual({
      value: 20,
      param: 'max_completion_tokens',
    });
  });

  it('uses max_tokens when max_completion_tokens is absent or null', () => {
    expect(requestedLimit(parsed({ model: 'm', messages, max_tokens: 10 }))).toEqual({
      value: 10,
      param: 'max_tokens',
    });
    expect(
      requestedLimit(parsed({ model: 'm', messages, max_tokens: 10, max_completion_tokens: null })),
    ).toEqual({
      value: 10,
      param: 'max_tokens',
    });
  });

  it('reports no limit, under the max_tokens name, when neither is set or both are null', () => {
    expect(requestedLimit(parsed({ model: 'm', messages }))).toEqual({
      value: undefined,
      param: 'max_tokens',
    });
    expect(
      requestedLimit(parsed({ model: 'm', messages, max_tokens: null, max_completion_tokens: null })),
    ).toEqual({ value: undefined, param: 'max_tokens' });
  });
});

describe('upstreamBody', () => {
  it('keeps the client field order, the bounded limit and stream_options last unless already sent', () => {
    const request = parsed({ model: 'm', max_tokens: 9, messages, stream: true, temperature: 0.1 });
    expect(Object.keys(upstreamBody(request, 'up', 5))).toEqual([
      'model',
      'messages',
      'stream',
      'temperature',
      'max_tokens',
      'stream_options',
    ]);
    const withOptions = parsed({ stream_options: {}, model: 'm', messages, stream: true });
    expect(Object.keys(upstreamBody(withOptions, 'up', 5))).toEqual([
      'stream_options',
      'model',
      'messages',
      'stream',
      'max_tokens',
    ]);
  });

  it("replaces the client's model name with the upstream's and passes everything else through", () => {
    const request = parsed({
      model: 'flash',
      messages,
      temperature: 0.7,
      response_format: { type: 'json_object' },
      user: 'u1',
      future_param: [1, 2, 3],
    });
    const body = upstreamBody(request, 'deepseek-chat', 512);
    expect(body).toEqual({
      model: 'deepseek-chat',
      messages,
      temperature: 0.7,
      response_format: { type: 'json_object' },
      user: 'u1',
      future_param: [1, 2, 3],
      max_tokens: 512,
    });
  });

  it('sends only the held limit, in max_tokens, whichever field the client used', () => {
    const both = parsed({ model: 'm', messages, max_tokens: 10_000, max_completion_tokens: 300 });
    const body = upstreamBody(both, 'up', 300);
    expect(body.max_tokens).toBe(300);
    expect(body).not.toHaveProperty('max_completion_tokens');
  });

  it('replaces a client limit with the bounded one', () => {
    const request = parsed({ model: 'm', messages, max_tokens: 100 });
    const body = upstreamBody(request, 'up', 42);
    expect(body.max_tokens).toBe(42);
    expect(body).not.toHaveProperty('max_completion_tokens');
  });

  it('adds a limit when the client sent none', () => {
    const request = parsed({ model: 'm', messages });
    expect(upstreamBody(request, 'up', 8_192).max_tokens).toBe(8_192);
  });

  it('forces include_usage for a stream whose client did not ask for usage', () => {
    const request = parsed({ model: 'm', messages, stream: true });
    expect(upstreamBody(request, 'up', 1).stream_options).toEqual({ include_usage: true });
  });

  it('forces include_usage even when the client asked for no usage, and keeps its other stream options', () => {
    const request = parsed({
      model: 'm',
      messages,
      stream: true,
      stream_options: { include_usage: false, include_obfuscation: false },
    });
    expect(upstreamBody(request, 'up', 1).stream_options).toEqual({
      include_usage: true,
      include_obfuscation: false,
    });
  });

  it('forces include_usage when the client sent stream_options as null', () => {
    const request = parsed({ model: 'm', messages, stream: true, stream_options: null });
    expect(upstreamBody(request, 'up', 1).stream_options).toEqual({ include_usage: true });
  });

  it('adds no stream_options to a request that does not stream', () => {
    expect(upstreamBody(parsed({ model: 'm', messages }), 'up', 1)).not.toHaveProperty('stream_options');
    expect(upstreamBody(parsed({ model: 'm', messages, stream: false }), 'up', 1)).not.toHaveProperty(
      'stream_options',
    );
  });

  it("does not change the client's parsed request", () => {
    const request = parsed({
      model: 'flash',
      messages,
      stream: true,
      max_tokens: 9,
      stream_options: { x: 1 },
    });
    const before = structuredClone(request);
    upstreamBody(request, 'up', 5);
    expect(request).toEqual(before);
  });
});
