/**
 * Byte-level handling of an OpenAI-style SSE stream. Events are forwarded as the bytes that
 * arrived; only an event's framing and a few keys are looked at, so a chunk is never decoded and
 * re-encoded on its way to the client. JSON is parsed for the one event that carries usage.
 */
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const DONE_FIELD = Buffer.from('data:');
const DONE_VALUE = Buffer.from('[DONE]');
const USAGE_KEY = Buffer.from('"usage"');
const CONTENT_KEYS = [
  Buffer.from('"content"'),
  Buffer.from('"reasoning_content"'),
  Buffer.from('"arguments"'),
];

/** Splits a byte stream into complete events (each ending with its blank line), keeping the partial tail. */
export class SseEventSplitter {
  private tail: Buffer | undefined;

  push(chunk: Buffer): Buffer[] {
    const data = this.tail ? Buffer.concat([this.tail, chunk]) : chunk;
    const events: Buffer[] = [];
    let start = 0;
    let i = 0;
    while (i < data.length) {
      const end = eventEnd(data, i);
      if (end === -1) break;
      events.push(data.subarray(start, end));
      start = end;
      i = end;
    }
    this.tail = start < data.length ? Buffer.from(data.subarray(start)) : undefined;
    return events;
  }

  /** Whatever arrived after the last complete event, if the stream ended without a blank line. */
  rest(): Buffer | undefined {
    return this.tail;
  }
}

/** Index just past the next blank line ("\n\n" or "\r\n\r\n") at or after `from`, or -1. */
function eventEnd(data: Buffer, from: number): number {
  let i = data.indexOf(LF, from);
  while (i !== -1) {
    const next = data[i + 1];
    if (next === LF) return i + 2;
    if (next === CR && data[i + 2] === LF) return i + 3;
    i = data.indexOf(LF, i + 1);
  }
  return -1;
}

/** True when a data line of the event is exactly `[DONE]`; the text inside a JSON chunk never is. */
export function isDoneEvent(event: Buffer): boolean {
  let at = event.indexOf(DONE_FIELD);
  while (at !== -1) {
    if (at === 0 || event[at - 1] === LF) {
      let end = at + DONE_FIELD.length;
      if (event[end] === 0x20) end++;
      if (event.subarray(end, end + DONE_VALUE.length).equals(DONE_VALUE)) {
        const after = event[end + DONE_VALUE.length];
        if (after === LF || after === CR || after === undefined) return true;
      }
    }
    at = event.indexOf(DONE_FIELD, at + 1);
  }
  return false;
}

/** Index of the first non-space byte after a key's colon, or -1. */
function valueStart(event: Buffer, keyIndex: number, keyLength: number): number {
  let i = keyIndex + keyLength;
  while (i < event.length && (event[i] === 0x20 || event[i] === 0x3a)) i++;
  return i < event.length ? i : -1;
}

/** True when the event carries a usage object (not `"usage":null`), so it is worth parsing. */
export function carriesUsage(event: Buffer): boolean {
  const at = event.indexOf(USAGE_KEY);
  if (at === -1) return false;
  const start = valueStart(event, at, USAGE_KEY.length);
  return start !== -1 && event[start] === 0x7b;
}

/** True when the event delivers output (a non-empty content, reasoning or tool-argument string). */
export function deliversOutput(event: Buffer): boolean {
  for (const key of CONTENT_KEYS) {
    let at = event.indexOf(key);
    while (at !== -1) {
      const start = valueStart(event, at, key.length);
      if (start !== -1 && event[start] === QUOTE && event[start + 1] !== QUOTE) return true;
      at = event.indexOf(key, at + key.length);
    }
  }
  return false;
}

/** The JSON payload of an event's data lines. */
export function eventData(event: Buffer): string {
  return event
    .toString('utf8')
    .split(/\r?\n/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trimStart())
    .join('\n');
}
