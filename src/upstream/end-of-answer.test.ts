import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChatWireFormat } from '../ports/chat-wire.js';
import { anthropicFormat } from './anthropic/wire-format.js';
import { geminiFormat } from './gemini/wire-format.js';
import { isCompleteAnswer } from './openai-compatible/complete-answer.js';
import { openAiCompatibleFormat } from './openai-compatible/wire-format.js';

/**
 * Each provider's own end of an answer, read from recorded wire fixtures: a stream is complete
 * only once it arrives, and a JSON answer without it (or cut anywhere) is no answer at all.
 */
const fixture = (provider: string, name: string) =>
  readFileSync(new URL(`./${provider}/__fixtures__/${name}`, import.meta.url));

const formats: [string, ChatWireFormat, string, string, string][] = [
  ['OpenAI-compatible', openAiCompatibleFormat(), 'openai-compatible', 'tool-call', '{"location":"Paris"}'],
  [
    'Anthropic',
    anthropicFormat,
    'anthropic',
    'tool-use',
    'Let me check the weather.{"location": "San Francisco, CA"}',
  ],
  ['Gemini', geminiFormat, 'gemini', 'function-call', '{"location":"Paris"}'],
];
const streams: typeof formats = [
  ...formats,
  ['Anthropic text', anthropicFormat, 'anthropic', 'text', 'Hello!'],
  ['Gemini text', geminiFormat, 'gemini', 'text', 'The sky is blue.'],
];

/** The stream's events, each with its blank line. */
function eventsOf(raw: Buffer): Buffer[] {
  const text = raw.toString();
  const separator = text.includes('\r\n\r\n') ? '\r\n\r\n' : '\n\n';
  return text
    .split(separator)
    .filter((event) => event.trim() !== '')
    .map((event) => Buffer.from(event + separator));
}

describe.each(streams)('a %s stream', (_name, format, dir, name, relayed) => {
  it('is complete once the provider’s own end arrives, and keeps the relayed output', () => {
    const translator = format.stream(false, 0);
    translator.push(fixture(dir, `${name}.chunks.txt`));
    expect(translator.complete).toBe(true);
    expect(translator.failed).toBe(false);
    expect(translator.relayedText()).toBe(relayed);
  });

  it('is not complete when cut before any of its last events', () => {
    const events = eventsOf(fixture(dir, `${name}.chunks.txt`));
    // The events after the provider's end ([DONE], a usage chunk) do not make it complete or not.
    const end = events.findIndex((_, i) => {
      const translator = format.stream(false, 0);
      translator.push(Buffer.concat(events.slice(0, i + 1)));
      return translator.complete;
    });
    expect(end).toBeGreaterThanOrEqual(0);
    for (let keep = 0; keep <= end; keep++) {
      const translator = format.stream(false, 0);
      translator.push(Buffer.concat(events.slice(0, keep)));
      expect(translator.complete).toBe(false);
    }
  });
});

describe('an Anthropic stream that ends with an error event', () => {
  it('failed, and is not complete', () => {
    const translator = anthropicFormat.stream(false, 0);
    translator.push(
      Buffer.from(
        'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
      ),
    );
    expect(translator.failed).toBe(true);
    expect(translator.ended).toBe(true);
    expect(translator.complete).toBe(false);
  });
});

describe.each(formats)('a %s JSON answer', (_name, format, dir, name) => {
  const raw = fixture(dir, `${name}.response.json`);

  it('is read when whole', () => {
    expect(format.response(raw, 0)).toBeDefined();
  });

  it('is refused when cut at any byte', () => {
    const end = raw.toString().trimEnd().length;
    for (let at = 0; at < end; at++) expect(format.response(raw.subarray(0, at), 0)).toBeUndefined();
  });
});

describe('a JSON answer that parses but lacks the provider’s end', () => {
  it('is refused from an OpenAI-compatible provider without a finish reason on every choice', () => {
    const format = openAiCompatibleFormat();
    const usage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };
    const answer = (choices: unknown[]) => Buffer.from(JSON.stringify({ id: 'x', choices, usage }));
    const message = { role: 'assistant', content: 'Hi' };
    expect(format.response(answer([{ index: 0, message, finish_reason: 'stop' }]), 0)).toBeDefined();
    expect(format.response(answer([{ index: 0, message, finish_reason: null }]), 0)).toBeUndefined();
    expect(format.response(answer([{ index: 0, message }]), 0)).toBeUndefined();
    expect(format.response(answer([]), 0)).toBeUndefined();
    expect(
      format.response(
        answer([
          { index: 0, message, finish_reason: 'stop' },
          { index: 1, message, finish_reason: null },
        ]),
        0,
      ),
    ).toBeUndefined();
  });

  it('is refused from Anthropic without a stop reason', () => {
    const message = JSON.parse(fixture('anthropic', 'tool-use.response.json').toString());
    expect(anthropicFormat.response(Buffer.from(JSON.stringify({ ...message, stop_reason: null })), 0)).toBe(
      undefined,
    );
    expect(anthropicFormat.response(Buffer.from(JSON.stringify({ ...message, type: 'error' })), 0)).toBe(
      undefined,
    );
  });

  it('is refused from Gemini without a finish reason', () => {
    const response = JSON.parse(fixture('gemini', 'function-call.response.json').toString());
    const [candidate] = response.candidates;
    const cut = { ...response, candidates: [{ ...candidate, finishReason: undefined }] };
    expect(geminiFormat.response(Buffer.from(JSON.stringify(cut)), 0)).toBeUndefined();
  });
});

describe('isCompleteAnswer', () => {
  const whole = (body: unknown) => Buffer.from(JSON.stringify(body));

  it('reads past braces, brackets and escaped quotes inside strings', () => {
    const body = {
      choices: [{ message: { content: 'a } ] \\" "quoted" { [' }, finish_reason: 'stop' }],
    };
    expect(isCompleteAnswer(whole(body))).toBe(true);
    expect(isCompleteAnswer(Buffer.from(`\n ${JSON.stringify(body)}\r\n`))).toBe(true);
  });

  it('refuses what follows the object, a document that is not an object, and an unclosed string', () => {
    const body = { choices: [{ finish_reason: 'stop' }] };
    expect(isCompleteAnswer(Buffer.from(`${JSON.stringify(body)}{}`))).toBe(false);
    expect(isCompleteAnswer(Buffer.from(JSON.stringify([body])))).toBe(false);
    expect(isCompleteAnswer(Buffer.from('{"choices":[{"finish_reason":"stop"}],"x":"}'))).toBe(false);
    expect(isCompleteAnswer(Buffer.alloc(0))).toBe(false);
  });
});
