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
/** Keys whose string values, inside a chat chunk's `delta`, are output relayed to the client. */
const OUTPUT_KEYS = ['content', 'reasoning_content', 'reasoning', 'arguments', 'refusal'].map((key) =>
  Buffer.from(key),
);
/** The legacy completions' output; looked for only in events without a chat `delta`. */
const TEXT_KEY = Buffer.from('"text"');
const DELTA_KEY = Buffer.from('"delta"');
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

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

/**
 * True when the event's choice has a finish reason (a string, not null): the answer is whole.
 * Tollgate asks for one choice, so an event has one `"finish_reason"`; it usually follows the
 * delta, so the search starts at `from` (past the delta) and looks before it only if need be.
 */
export function carriesFinishReason(event: Buffer, from = 0): boolean {
  let at = event.indexOf(FINISH_KEY, from);
  if (at === -1 && from > 0) at = event.indexOf(FINISH_KEY);
  if (at === -1) return false;
  const start = valueStart(event, at, FINISH_KEY.length);
  return start !== -1 && event[start] === QUOTE;
}

/** True when the bytes from `start` to `end` spell one of OUTPUT_KEYS. */
function isOutputKey(event: Buffer, start: number, end: number): boolean {
  const length = end - start;
  for (const key of OUTPUT_KEYS) {
    if (key.length !== length) continue;
    let i = 0;
    while (i < length && event[start + i] === key[i]) i++;
    if (i === length) return true;
  }
  return false;
}

/**
 * Index of the quote that closes the JSON string opened at `open`, or -1. A plain loop: the
 * strings of a chunk are a few bytes, where a native search costs more to call than to run.
 */
function stringEnd(event: Buffer, open: number): number {
  for (let i = open + 1; i < event.length; i++) {
    const byte = event[i];
    if (byte === BACKSLASH) i++;
    else if (byte === QUOTE) return i;
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

  /**
   * Keeps the non-empty output strings of one event (a chat chunk or a legacy completion chunk),
   * and returns the index just past its delta (0 without one). Each search of an event costs
   * about as much as the relay's other checks of it, so the event is searched once, for the
   * `"delta"` of its one choice (Tollgate asks for one), and only the delta object is walked.
   */
  collect(event: Buffer): number {
    const at = event.indexOf(DELTA_KEY);
    if (at === -1) {
      this.collectKey(event, TEXT_KEY);
      return 0;
    }
    const open = valueStart(event, at, DELTA_KEY.length);
    const end = open !== -1 && event[open] === OPEN_BRACE ? this.collectObject(event, open) : -1;
    return end === -1 ? 0 : end;
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

  /**
   * Walks the JSON object opened at `open`, keeping the string value of every output key in it
   * (tool calls' arguments are nested in it). Returns the index past its end, or -1.
   */
  private collectObject(event: Buffer, open: number): number {
    let depth = 0;
    let i = open;
    while (i < event.length) {
      const byte = event[i];
      if (byte === QUOTE) {
        const end = stringEnd(event, i);
        if (end === -1) return -1;
        let next = end + 1;
        while (event[next] === 0x20 || event[next] === 0x09) next++;
        if (event[next] !== COLON) {
          i = end + 1;
          continue;
        }
        // A key: if it names output and its value is a string, keep the value.
        let value = next + 1;
        while (event[value] === 0x20 || event[value] === 0x09) value++;
        if (event[value] === QUOTE && isOutputKey(event, i + 1, end)) {
          const valueEnd = stringEnd(event, value);
          if (valueEnd === -1) return -1;
          if (valueEnd > value + 1) this.keep(event, value, valueEnd + 1);
          i = valueEnd + 1;
        } else i = value;
        continue;
      }
      if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
      else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && --depth === 0) return i + 1;
      i++;
    }
    return -1;
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
    const bytes = this.bytes;
    // A token or two: copied by hand, which is cheaper than a native copy's call.
    if (size <= 64) for (let i = 0; i < size; i++) bytes[this.length + i] = event[start + i]!;
    else event.copy(bytes, this.length, start, end);
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
