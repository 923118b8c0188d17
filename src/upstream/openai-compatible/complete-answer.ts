/**
 * Whether an OpenAI-style JSON answer (chat or legacy completion) arrived whole. A body cut short
 * at the transport level fails in undici (short of its Content-Length, or a chunked body without
 * its last chunk); this catches the rest, a body that ends early as far as HTTP can tell:
 * - the document must be one JSON object whose closing brace is its last non-blank byte (a prefix
 *   of a JSON object never closes it), and
 * - a choice must carry the provider's own end, a finish reason, and no choice may lack it.
 * Both are read from the bytes, without parsing the answer, which costs less than a microsecond
 * for a typical answer where a parse costs several.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const FINISH_KEY = Buffer.from('"finish_reason"');

function isBlank(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** Index of the brace that closes the object opened at `open`, skipping strings, or -1. */
function objectEnd(raw: Buffer, open: number): number {
  let depth = 0;
  let i = open;
  while (i < raw.length) {
    const byte = raw[i];
    if (byte === QUOTE) {
      let close = raw.indexOf(QUOTE, i + 1);
      while (close !== -1) {
        let backslashes = 0;
        for (let j = close - 1; raw[j] === BACKSLASH; j--) backslashes++;
        if (backslashes % 2 === 0) break;
        close = raw.indexOf(QUOTE, close + 1);
      }
      if (close === -1) return -1;
      i = close + 1;
      continue;
    }
    if (byte === 0x7b || byte === 0x5b) depth++;
    else if ((byte === 0x7d || byte === 0x5d) && --depth === 0) return i;
    i++;
  }
  return -1;
}

/** True when every `"finish_reason"` has a string value, and there is at least one. */
function everyChoiceFinished(raw: Buffer): boolean {
  let found = false;
  let at = raw.indexOf(FINISH_KEY);
  while (at !== -1) {
    let value = at + FINISH_KEY.length;
    while (isBlank(raw[value]) || raw[value] === 0x3a) value++;
    if (raw[value] !== QUOTE) return false;
    found = true;
    at = raw.indexOf(FINISH_KEY, value);
  }
  return found;
}

export function isCompleteAnswer(raw: Buffer): boolean {
  let start = 0;
  while (isBlank(raw[start])) start++;
  if (raw[start] !== 0x7b) return false;
  const end = objectEnd(raw, start);
  if (end === -1) return false;
  let rest = end + 1;
  while (isBlank(raw[rest])) rest++;
  return rest === raw.length && everyChoiceFinished(raw);
}

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const stringOf = (value: unknown) => (typeof value === 'string' ? value : '');

/** The output a parsed answer gives the client: text, reasoning, refusals and tool-call arguments. */
export function outputTextOf(parsed: unknown): string {
  const choices = isRecord(parsed) && Array.isArray(parsed.choices) ? parsed.choices : [];
  let text = '';
  for (const choice of choices) {
    if (!isRecord(choice)) continue;
    text += stringOf(choice.text);
    const message = choice.message;
    if (!isRecord(message)) continue;
    text += stringOf(message.reasoning_content) + stringOf(message.reasoning);
    text += stringOf(message.content) + stringOf(message.refusal);
    const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
    for (const call of [...calls, message.function_call]) {
      if (!isRecord(call)) continue;
      const fn = isRecord(call.function) ? call.function : call;
      text += stringOf(fn.arguments);
    }
  }
  return text;
}

/** outputTextOf for an answer not parsed yet. */
export function answerOutputText(raw: Buffer): string {
  try {
    return outputTextOf(JSON.parse(raw.toString('utf8')));
  } catch {
    return '';
  }
}
