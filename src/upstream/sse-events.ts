/**
 * Byte-level handling of an OpenAI-style SSE stream. Events are forwarded as the bytes that
 * arrived; only an event's framing and a few keys are looked at, so a chunk is never decoded and
 * re-encoded on its way to the client. JSON is parsed for the one event that carries usage.
 *
 * A key in quotes cannot occur inside a JSON string (its quotes would be escaped there), so
 * finding `"content"` in an event's bytes finds a key, never generated text.
 */
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DONE_FIELD = Buffer.from('data:');
const DONE_VALUE = Buffer.from('[DONE]');
const USAGE_KEY = Buffer.from('"usage"');
const FINISH_KEY = Buffer.from('"finish_reason"');
/** Keys whose string values are output relayed to the client, in a chat completion chunk. */
const OUTPUT_KEYS = [
  Buffer.from('"content"'),
  Buffer.from('"reasoning_content"'),
  Buffer.from('"reasoning"'),
  Buffer.from('"arguments"'),
  Buffer.from('"refusal"'),
];
/** The legacy completions' output; looked for only in events without a chat `delta`. */
const TEXT_KEY = Buffer.from('"text"');
const DELTA_KEY = Buffer.from('"delta"');

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

/** True when a choice of the event has a finish reason (a string, not null): the answer is whole. */
export function carriesFinishReason(event: Buffer): boolean {
  let at = event.indexOf(FINISH_KEY);
  while (at !== -1) {
    const start = valueStart(event, at, FINISH_KEY.length);
    if (start !== -1 && event[start] === QUOTE) return true;
    at = event.indexOf(FINISH_KEY, at + FINISH_KEY.length);
  }
  return false;
}

/** Index of the quote that closes the JSON string opened at `open`, or -1. */
function stringEnd(event: Buffer, open: number): number {
  let i = event.indexOf(QUOTE, open + 1);
  while (i !== -1) {
    let backslashes = 0;
    for (let j = i - 1; event[j] === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return i;
    i = event.indexOf(QUOTE, i + 1);
  }
  return -1;
}

/**
 * The output strings of a relayed stream, kept as their raw JSON bytes (quotes and escapes
 * included): copying a few bytes an event is all the hot path pays. They are decoded only when
 * `text()` is asked for, to estimate a stream whose usage never arrived.
 */
export class RelayedOutput {
  private bytes: Buffer | undefined;
  private length = 0;
  /** Where each kept string ends in `bytes`. */
  private readonly ends: number[] = [];

  /** Keeps the non-empty output strings of one event (a chat chunk or a legacy completion chunk). */
  collect(event: Buffer): void {
    for (const key of OUTPUT_KEYS) this.collectKey(event, key);
    if (event.indexOf(DELTA_KEY) === -1) this.collectKey(event, TEXT_KEY);
  }

  /** The kept strings, decoded and joined. */
  text(): string {
    if (!this.bytes) return '';
    let text = '';
    let start = 0;
    for (const end of this.ends) {
      try {
        text += JSON.parse(this.bytes.toString('utf8', start, end)) as string;
      } catch {
        // A string with an invalid escape: the client got it as it was, but it cannot be decoded.
      }
      start = end;
    }
    return text;
  }

  private collectKey(event: Buffer, key: Buffer): void {
    let at = event.indexOf(key);
    while (at !== -1) {
      const start = valueStart(event, at, key.length);
      if (start !== -1 && event[start] === QUOTE && event[start + 1] !== QUOTE) {
        const end = stringEnd(event, start);
        if (end !== -1) this.keep(event, start, end + 1);
      }
      at = event.indexOf(key, at + key.length);
    }
  }

  private keep(event: Buffer, start: number, end: number): void {
    const size = end - start;
    if (!this.bytes || this.length + size > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(1024, 2 * (this.length + size)));
      this.bytes?.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    event.copy(this.bytes, this.length, start, end);
    this.length += size;
    this.ends.push(this.length);
  }
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
