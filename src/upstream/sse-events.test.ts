import { describe, expect, it } from 'vitest';
import { DONE_EVENT, sseEvent } from '../services/chat/client-events.js';
import {
  carriesFinishReason,
  carriesUsage,
  eventData,
  isDoneEvent,
  RelayedOutput,
  SseEventSplitter,
} from './sse-events.js';

const events = [
  'data: {"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}\n\n',
  'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Bonjour, "},"finish_reason":null}],"usage":null}\n\n',
  'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"ça va ? 你好 😀"},"finish_reason":null}],"usage":null}\n\n',
  'data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n',
  'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}\n\n',
  'data: [DONE]\n\n',
];
const crlfEvents = events.map((event) => event.replaceAll('\n', '\r\n'));

/** A small deterministic generator, so that the random chunkings below are reproducible. */
function seeded(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % limit;
  };
}

function splitInto(bytes: Buffer, cuts: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    chunks.push(bytes.subarray(start, cut));
    start = cut;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

function run(chunks: Buffer[]): { events: string[]; rest: string | undefined } {
  const splitter = new SseEventSplitter();
  const out: string[] = [];
  for (const chunk of chunks) for (const event of splitter.push(chunk)) out.push(event.toString('utf8'));
  return { events: out, rest: splitter.rest()?.toString('utf8') };
}

describe('SseEventSplitter', () => {
  it.each([
    ['LF', events],
    ['CRLF', crlfEvents],
  ])(
    'returns each %s-framed event whole, with its blank line, when the stream arrives at once',
    (_n, list) => {
      expect(run([Buffer.from(list.join(''))])).toEqual({ events: list, rest: undefined });
    },
  );

  it.each([
    ['LF', events],
    ['CRLF', crlfEvents],
  ])('returns the same %s-framed events when the stream is cut at any single point', (_n, list) => {
    const bytes = Buffer.from(list.join(''));
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(run(splitInto(bytes, [cut]))).toEqual({ events: list, rest: undefined });
    }
  });

  it.each([
    ['LF', events],
    ['CRLF', crlfEvents],
  ])('returns the same %s-framed events when the stream arrives one byte at a time', (_n, list) => {
    const bytes = Buffer.from(list.join(''));
    const chunks = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    expect(run(chunks)).toEqual({ events: list, rest: undefined });
  });

  it('returns the same events for many random chunkings, with multi-byte characters cut in half', () => {
    const bytes = Buffer.from([...events, ...crlfEvents].join(''));
    const next = seeded(7);
    for (let round = 0; round < 300; round++) {
      const cuts = Array.from({ length: 1 + next(40) }, () => next(bytes.length + 1));
      expect(run(splitInto(bytes, cuts)).events).toEqual([...events, ...crlfEvents]);
    }
  });

  it('gives an event only once its blank line has fully arrived', () => {
    const splitter = new SseEventSplitter();
    expect(splitter.push(Buffer.from('data: {"a":1}\n'))).toEqual([]);
    expect(splitter.rest()?.toString()).toBe('data: {"a":1}\n');
    expect(splitter.push(Buffer.from('\n')).map(String)).toEqual(['data: {"a":1}\n\n']);
    expect(splitter.rest()).toBeUndefined();
  });

  it('waits for the last LF of a CRLF blank line', () => {
    const splitter = new SseEventSplitter();
    expect(splitter.push(Buffer.from('data: {"a":1}\r\n\r'))).toEqual([]);
    expect(splitter.push(Buffer.from('\n')).map(String)).toEqual(['data: {"a":1}\r\n\r\n']);
  });

  it('keeps the partial tail of a stream that ends without a blank line', () => {
    const splitter = new SseEventSplitter();
    const first = splitter.push(Buffer.from(`${events[1]}data: {"choices":[{"delta":{"content":"cut`));
    expect(first.map(String)).toEqual([events[1]]);
    expect(splitter.rest()?.toString()).toBe('data: {"choices":[{"delta":{"content":"cut');
  });

  it('keeps a copy of the tail, so reusing the chunk buffer does not change it', () => {
    const splitter = new SseEventSplitter();
    const chunk = Buffer.from('data: {"a":1}\n\ndata: {"b"');
    splitter.push(chunk);
    chunk.fill(0x78);
    expect(splitter.rest()?.toString()).toBe('data: {"b"');
  });

  it('returns nothing for an empty chunk', () => {
    const splitter = new SseEventSplitter();
    expect(splitter.push(Buffer.alloc(0))).toEqual([]);
    expect(splitter.rest()).toBeUndefined();
  });

  it('keeps comment lines and event fields inside the event they belong to', () => {
    const text = ': keep-alive\n\nevent: message\nid: 7\ndata: {"x":1}\n\n';
    expect(run([Buffer.from(text)]).events).toEqual([
      ': keep-alive\n\n',
      'event: message\nid: 7\ndata: {"x":1}\n\n',
    ]);
  });
});

describe('carriesUsage', () => {
  it('is true for a usage object written with or without a space after the colon', () => {
    expect(carriesUsage(Buffer.from('data: {"choices":[],"usage":{"prompt_tokens":1}}\n\n'))).toBe(true);
    expect(carriesUsage(Buffer.from('data: {"choices":[],"usage": {"prompt_tokens":1}}\n\n'))).toBe(true);
    expect(carriesUsage(Buffer.from('data: {"choices":[],"usage" : {"prompt_tokens":1}}\n\n'))).toBe(true);
  });

  it('is false for "usage":null and for events without usage', () => {
    expect(carriesUsage(Buffer.from('data: {"choices":[],"usage":null}\n\n'))).toBe(false);
    expect(carriesUsage(Buffer.from('data: {"choices":[],"usage": null}\n\n'))).toBe(false);
    expect(carriesUsage(Buffer.from('data: {"choices":[{"delta":{"content":"hi"}}]}\n\n'))).toBe(false);
    expect(carriesUsage(Buffer.from('data: [DONE]\n\n'))).toBe(false);
  });

  it('is false when the word usage only appears inside generated text', () => {
    const event = sseEvent({ choices: [{ delta: { content: 'the "usage": {"a":1} field' } }], usage: null });
    expect(carriesUsage(event)).toBe(false);
  });

  it('is false for a usage key at the very end of a truncated event', () => {
    expect(carriesUsage(Buffer.from('data: {"usage":'))).toBe(false);
  });
});

/** The output text RelayedOutput keeps from these events. */
function relayed(...list: (string | Buffer)[]): string {
  const output = new RelayedOutput();
  for (const event of list) output.collect(typeof event === 'string' ? Buffer.from(event) : event);
  return output.text();
}

describe('RelayedOutput', () => {
  it('keeps content, reasoning, refusals and tool-call arguments, decoded', () => {
    expect(relayed(events[1]!, events[2]!)).toBe('Bonjour, ça va ? 你好 😀');
    expect(relayed('data: {"choices":[{"delta":{"reasoning_content":"Let me"}}]}\n\n')).toBe('Let me');
    expect(relayed('data: {"choices":[{"delta":{"reasoning":"Think"}}]}\n\n')).toBe('Think');
    expect(relayed('data: {"choices":[{"delta":{"refusal":"I can\'t"}}]}\n\n')).toBe("I can't");
    expect(
      relayed(
        'data: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city"}}]}}]}\n\n',
      ),
    ).toBe('{"city');
  });

  it('decodes escapes, quotes and backslashes at the end of a string included', () => {
    const text = 'a "quoted" line\nand a path C:\\dir\\';
    expect(relayed(sseEvent({ choices: [{ delta: { content: text } }] }))).toBe(text);
  });

  it('reads a key written with a space after the colon', () => {
    expect(relayed('data: {"choices":[{"delta":{"content": "hi"}}]}\n\n')).toBe('hi');
  });

  it('keeps nothing of the role chunk, the finish chunk, the usage chunk, [DONE] or null values', () => {
    expect(relayed(events[0]!, events[3]!, events[4]!, events[5]!)).toBe('');
    expect(relayed('data: {"choices":[{"delta":{"content":null,"refusal":null}}]}\n\n')).toBe('');
  });

  it('ignores a logprobs content array, and text that only mentions a key', () => {
    expect(relayed('data: {"choices":[{"delta":{},"logprobs":{"content":[]}}]}\n\n')).toBe('');
    expect(relayed(sseEvent({ choices: [{ delta: { content: 'the "refusal": "x" key' } }] }))).toBe(
      'the "refusal": "x" key',
    );
  });

  it('keeps the text of legacy completion chunks, which have no delta', () => {
    expect(relayed('data: {"object":"text_completion","choices":[{"text":"tok0 ","index":0}]}\n\n')).toBe(
      'tok0 ',
    );
  });

  it('keeps the strings of many events in order, and of nested tool calls', () => {
    expect(
      relayed(
        'data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{}"}},{"index":1,"function":{"arguments":"[1]"}}]}}]}\n\n',
      ),
    ).toBe('{}[1]');
    const many = Array.from({ length: 500 }, (_, i) =>
      sseEvent({ choices: [{ delta: { content: `w${i} ` } }] }),
    );
    expect(relayed(...many)).toBe(Array.from({ length: 500 }, (_, i) => `w${i} `).join(''));
  });

  it('gives up only on a string with an invalid escape, keeping the others', () => {
    expect(relayed('data: {"choices":[{"delta":{"content":"bad \\q"}}]}\n\n', events[1]!)).toBe('Bonjour, ');
  });
});

describe('carriesFinishReason', () => {
  it('is true for a choice with a finish reason, before or after its delta', () => {
    expect(
      carriesFinishReason(Buffer.from('data: {"choices":[{"finish_reason":"stop","delta":{}}]}\n\n'), 30),
    ).toBe(true);
    expect(carriesFinishReason(Buffer.from(events[3]!))).toBe(true);
    expect(carriesFinishReason(Buffer.from('data: {"choices":[{"finish_reason": "length"}]}\n\n'))).toBe(
      true,
    );
  });

  it('is false for a null finish reason, for events without one, and for text that mentions it', () => {
    for (const event of [events[0]!, events[1]!, events[4]!, events[5]!])
      expect(carriesFinishReason(Buffer.from(event))).toBe(false);
    const mention = sseEvent({
      choices: [{ delta: { content: '"finish_reason":"stop"' }, finish_reason: null }],
    });
    expect(carriesFinishReason(mention)).toBe(false);
  });
});

describe('isDoneEvent', () => {
  it('is true for the [DONE] event in LF and CRLF framing', () => {
    expect(isDoneEvent(Buffer.from('data: [DONE]\n\n'))).toBe(true);
    expect(isDoneEvent(Buffer.from('data: [DONE]\r\n\r\n'))).toBe(true);
    expect(isDoneEvent(DONE_EVENT)).toBe(true);
  });

  it('is false for ordinary chunks', () => {
    for (const event of events.slice(0, 5)) expect(isDoneEvent(Buffer.from(event))).toBe(false);
  });

  it('is false for a content chunk whose text mentions data: [DONE]', () => {
    const event = sseEvent({
      choices: [{ index: 0, delta: { content: 'The stream ends with data: [DONE] on its own line.' } }],
    });
    expect(isDoneEvent(event)).toBe(false);
  });
});

describe('eventData', () => {
  it('returns the payload of a single data line', () => {
    expect(eventData(Buffer.from(events[4]!))).toBe(
      '{"id":"c1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}',
    );
    expect(JSON.parse(eventData(Buffer.from(crlfEvents[4]!)))).toMatchObject({ usage: { prompt_tokens: 9 } });
  });

  it('joins several data lines with newlines and ignores other fields and comments', () => {
    expect(eventData(Buffer.from(': note\nevent: x\ndata: {"a":\ndata: 1}\nid: 3\n\n'))).toBe('{"a":\n1}');
    expect(eventData(Buffer.from('data: {"a":\r\ndata: 1}\r\n\r\n'))).toBe('{"a":\n1}');
  });

  it('accepts data lines with no space after the colon', () => {
    expect(eventData(Buffer.from('data:{"a":1}\n\n'))).toBe('{"a":1}');
  });

  it('returns an empty string for an event without data', () => {
    expect(eventData(Buffer.from(': keep-alive\n\n'))).toBe('');
  });
});

describe('sseEvent', () => {
  it('frames a JSON payload as one data event that the splitter and eventData read back', () => {
    const payload = { error: { message: 'boom', type: 'api_error', code: 'upstream_error', param: null } };
    const event = sseEvent(payload);
    expect(event.toString()).toBe(`data: ${JSON.stringify(payload)}\n\n`);
    expect(new SseEventSplitter().push(event)).toEqual([event]);
    expect(JSON.parse(eventData(event))).toEqual(payload);
  });
});
