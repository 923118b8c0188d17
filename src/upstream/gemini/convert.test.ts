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
      tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'object' } }] }],
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
      model: 'gemini-2.0-flash',
      choices: [
        {
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_0',
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
    expect(translator.outputEvents).toBe(3);
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
    expect(call).toMatchObject({ index: 0, id: 'call_0', function: { name: 'get_weather' } });
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
    expect(translator.outputEvents).toBe(1);
  });
});
