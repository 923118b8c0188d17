import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { convertRequest } from './convert-request.js';
import { convertResponse } from './convert-response.js';
import { geminiFormat } from './wire-format.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url));

describe('OpenAI request → Gemini generateContent request', () => {
  it('keeps the system prompt apart, names the model turn "model", and answers tool calls by name', () => {
    const body = convertRequest({
      model: 'gemini-2.0-flash',
      max_tokens: 256,
      temperature: 0.5,
      top_p: 0.8,
      stop: ['END'],
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather here?' },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_9',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_9', content: '{"celsius":18}' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    expect(body).toEqual({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [
        {
          role: 'user',
          parts: [{ text: 'Weather here?' }, { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQ' } }],
        },
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { location: 'Paris' } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { celsius: 18 } } }] },
      ],
      generationConfig: { maxOutputTokens: 256, temperature: 0.5, topP: 0.8, stopSequences: ['END'] },
      tools: [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: { type: 'object' } }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
    });
  });

  it('puts the model and the streaming mode in the path', () => {
    expect(geminiFormat.path('gemini-2.0-flash', false)).toBe('/models/gemini-2.0-flash:generateContent');
    expect(geminiFormat.path('gemini-2.0-flash', true)).toBe(
      '/models/gemini-2.0-flash:streamGenerateContent?alt=sse',
    );
  });
});

describe('Gemini answers → OpenAI shapes', () => {
  it('turns a function call into tool_calls with usage and cached tokens', () => {
    const response = convertResponse(
      JSON.parse(fixture('function-call.response.json').toString()),
      'x',
      1_700_000_000,
    );
    expect(response).toMatchObject({
      id: 'k2dQaf7xJ4-nz7IPs6OvyAk',
      object: 'chat.completion',
      model: 'gemini-3-flash-preview',
      choices: [
        {
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: expect.stringMatching(/^call_[0-9a-f]{24}_ts_/),
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
              },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: {
        prompt_tokens: 48,
        completion_tokens: 7,
        total_tokens: 55,
        prompt_tokens_details: { cached_tokens: 32 },
      },
    });
  });

  it('streams text chunks, ends with the finish reason, and counts thinking tokens as output', () => {
    const translator = geminiFormat.stream(true, 1_700_000_000);
    const events = translator.push(fixture('text.chunks.txt')).map(
      (event) =>
        JSON.parse(event.toString().slice(6)) as {
          choices: { delta: { content?: string }; finish_reason: string | null }[];
          usage?: unknown;
          model: string;
        },
    );
    expect(events[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(events.map((e) => e.choices[0]?.delta.content ?? '').join('')).toBe('The sky is blue.');
    expect(events.find((e) => e.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('stop');
    expect(events.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 8 } });
    expect(events[0]?.model).toBe('gemini-2.0-flash');
    expect(translator.usage).toEqual({ promptTokens: 9, completionTokens: 8 });
    expect(translator.relayedText()).toBe('The sky is blue.');
    expect(translator.complete).toBe(true);
  });
});

describe('Gemini streamed function call → OpenAI tool_calls chunks', () => {
  it('emits the call with its whole arguments and ends with tool_calls', () => {
    const translator = geminiFormat.stream(false, 0);
    const events = translator.push(fixture('function-call.chunks.txt')).map(
      (event) =>
        JSON.parse(event.toString().slice(6)) as {
          choices: {
            delta: {
              tool_calls?: { index: number; id: string; function: { name: string; arguments: string } }[];
            };
            finish_reason: string | null;
          }[];
        },
    );
    const call = events.flatMap((e) => e.choices[0]?.delta.tool_calls ?? [])[0];
    expect(call).toMatchObject({ index: 0, function: { name: 'get_weather' } });
    expect(call?.id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(JSON.parse(call?.function.arguments ?? '')).toEqual({ location: 'Paris' });
    expect(events.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
    expect(translator.usage).toEqual({ promptTokens: 48, completionTokens: 7 });
  });

  it('converts a plain text answer', () => {
    const answer = geminiFormat.response(
      Buffer.from(
        JSON.stringify({
          candidates: [
            {
              content: { role: 'model', parts: [{ text: 'Hi there.' }] },
              finishReason: 'MAX_TOKENS',
              index: 0,
            },
          ],
          usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 4, totalTokenCount: 7 },
          modelVersion: 'gemini-2.0-flash',
        }),
      ),
      0,
    );
    expect(JSON.parse(answer?.json.toString() ?? '{}')).toMatchObject({
      choices: [{ message: { content: 'Hi there.' }, finish_reason: 'length' }],
    });
    expect(answer?.usage).toEqual({ promptTokens: 3, completionTokens: 4 });
  });
});

describe('a Gemini stream cut before its end', () => {
  it('reports no usage until the chunk with the finish reason', () => {
    const translator = geminiFormat.stream(false, 0);
    const first = fixture('text.chunks.txt').toString().split('\n\n')[0];
    translator.push(Buffer.from(`${first}\n\n`));
    expect(translator.usage).toBeUndefined();
    expect(translator.complete).toBe(false);
    expect(translator.relayedText()).toBe('The');
  });
});

describe('a thought signature on a Gemini function call', () => {
  it('comes back on the functionCall part when the client answers the call by its id', () => {
    const answer = convertResponse(JSON.parse(fixture('function-call.response.json').toString()), 'x', 0);
    const call = answer.choices[0]?.message.tool_calls?.[0];
    const request = convertRequest({
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        answer.choices[0]?.message,
        { role: 'tool', tool_call_id: call?.id, content: '{"celsius":18}' },
      ],
    });
    expect(request.contents[1]).toEqual({
      role: 'model',
      parts: [
        {
          functionCall: { name: 'get_weather', args: { location: 'Paris' } },
          thoughtSignature: 'CtQBAdHtim+/6vZ4sE1Xa8mKJQy2b3X9lq0=',
        },
      ],
    });
    expect(request.contents[2]).toEqual({
      role: 'user',
      parts: [{ functionResponse: { name: 'get_weather', response: { celsius: 18 } } }],
    });
  });

  it('is also read where Google’s own OpenAI endpoint puts it', () => {
    const request = convertRequest({
      max_tokens: 10,
      messages: [
        {
          role: 'assistant',
          tool_calls: [
            {
              id: 'abc',
              type: 'function',
              function: { name: 'f', arguments: '{}' },
              extra_content: { google: { thought_signature: 'c2lnbmF0dXJl' } },
            },
          ],
        },
      ],
    });
    expect(request.contents[0]?.parts[0]).toMatchObject({ thoughtSignature: 'c2lnbmF0dXJl' });
  });
});

describe('a prompt Gemini blocked', () => {
  const blocked = {
    promptFeedback: { blockReason: 'SAFETY', safetyRatings: [] },
    usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 },
    modelVersion: 'gemini-3-flash-preview',
  };

  it('is an empty answer with finish_reason content_filter, charged for the prompt Gemini counted', () => {
    const answer = geminiFormat.response(Buffer.from(JSON.stringify(blocked)), 0);
    expect(JSON.parse(answer?.json.toString() ?? '{}')).toMatchObject({
      choices: [{ message: { role: 'assistant', content: '' }, finish_reason: 'content_filter' }],
      usage: { prompt_tokens: 12, completion_tokens: 0 },
    });
    expect(answer?.usage).toEqual({ promptTokens: 12, completionTokens: 0 });
  });

  it('ends a stream as a refusal that names the reason, with the prompt’s usage', () => {
    const translator = geminiFormat.stream(true, 0);
    const events = translator.push(Buffer.from(`data: ${JSON.stringify(blocked)}\r\n\r\n`));
    expect(events).toEqual([]);
    expect(translator.failed).toBe(true);
    expect(translator.refusal).toEqual({
      status: 400,
      code: 'content_filter',
      message: "The prompt was blocked by the provider's content filter (SAFETY).",
    });
    expect(translator.usage).toEqual({ promptTokens: 12, completionTokens: 0 });
  });
});
