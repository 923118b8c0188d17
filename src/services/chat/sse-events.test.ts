import { describe, expect, it } from 'vitest';
import { carriesUsage, deliversOutput, eventData, isDoneEvent, SseEventSplitter } from './sse-events.js';

const stream = [
  'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}\n\n',
  'data: {"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],"usage":null}\n\n',
  'data: {"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}],"usage":null}\n\n',
  'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n',
  'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}\n\n',
  'data: [DONE]\n\n',
].join('');

function split(chunks: Buffer[]): string[] {
  const splitter = new SseEventSplitter();
  return chunks.flatMap((chunk) => splitter.push(chunk)).map((e) => e.toString());
}

describe('SSE event splitting', () => {
  it('yields the same events however the bytes are chunked, one byte at a time included', () => {
    const whole = split([Buffer.from(stream)]);
    expect(whole).toHaveLength(6);
    expect(split([...Buffer.from(stream)].map((byte) => Buffer.from([byte])))).toEqual(whole);
    expect(split([Buffer.from(stream.slice(0, 101)), Buffer.from(stream.slice(101))])).toEqual(whole);
  });

  it('understands CRLF framing and keeps an unfinished event for later', () => {
    const splitter = new SseEventSplitter();
    expect(splitter.push(Buffer.from('data: {"a":1}\r\n\r\ndata: {"b"')).map(String)).toEqual([
      'data: {"a":1}\r\n\r\n',
    ]);
    expect(splitter.rest()?.toString()).toBe('data: {"b"');
    expect(splitter.push(Buffer.from(':2}\n\n')).map(String)).toEqual(['data: {"b":2}\n\n']);
  });

  it('spots the usage chunk, output chunks and the end without parsing JSON', () => {
    const events = split([Buffer.from(stream)]).map((e) => Buffer.from(e));
    expect(events.map(carriesUsage)).toEqual([false, false, false, false, true, false]);
    expect(events.map(deliversOutput)).toEqual([false, true, true, false, false, false]);
    expect(events.map(isDoneEvent)).toEqual([false, false, false, false, false, true]);
    expect(carriesUsage(Buffer.from('data: {"usage": {"prompt_tokens":1}}\n\n'))).toBe(true);
    expect(
      deliversOutput(Buffer.from('data: {"delta":{"tool_calls":[{"function":{"arguments":"{\\"a"}}]}}\n\n')),
    ).toBe(true);
    expect(deliversOutput(Buffer.from('data: {"delta":{"reasoning_content":"hmm"}}\n\n'))).toBe(true);
  });

  it('joins multi-line data fields', () => {
    expect(eventData(Buffer.from('event: x\ndata: {"a":\ndata: 1}\n\n'))).toBe('{"a":\n1}');
  });
});
