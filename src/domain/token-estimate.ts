/**
 * Token counts for a request whose provider never reported its usage (a stream cut short, a
 * provider that reports none): the text is counted with a real tokenizer, never guessed from its
 * length. Every function takes the tokenizer as `count`, so this module stays pure.
 *
 * What a provider bills beyond the text follows OpenAI's chat format: each message adds a few
 * tokens around its text, the start of the reply a few more, and an image is billed per image.
 */
import { CHAT_CONTROLLED, COMPLETIONS_CONTROLLED } from './prompt-tokens.js';

export type CountTokens = (text: string) => number;

const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_REPLY = 3;
/** A typical high-detail image (OpenAI's 768×768 tiling); audio and files get the same allowance. */
const MEDIA_TOKENS_TYPICAL = 765;
const MEDIA_PARTS = new Set(['image_url', 'input_image', 'input_audio', 'file']);

/**
 * Text up to this length (UTF-16 units) is counted whole: about 8,000 tokens, a few milliseconds.
 * Longer text is counted by samples spread over it, so that a client who sends megabytes and hangs
 * up cannot make one estimate take a second of the server's time.
 */
const EXACT_LENGTH = 32_768;
const SAMPLES = 16;
const SAMPLE_LENGTH = EXACT_LENGTH / SAMPLES;

/** The tokens of `text`: exact up to EXACT_LENGTH, else the samples' tokens scaled to the whole length. */
export function countBounded(count: CountTokens, text: string): number {
  if (text.length <= EXACT_LENGTH) return count(text);
  const stride = (text.length - SAMPLE_LENGTH) / (SAMPLES - 1);
  let sampled = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const start = Math.floor(i * stride);
    sampled += count(text.slice(start, start + SAMPLE_LENGTH));
  }
  return Math.ceil((sampled * text.length) / (SAMPLES * SAMPLE_LENGTH));
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Adds a message's content to `texts`; returns how many media parts (images, audio, files) it holds. */
function collectContent(content: unknown, texts: string[]): number {
  if (typeof content === 'string') {
    texts.push(content);
    return 0;
  }
  if (!Array.isArray(content)) {
    if (content !== null && content !== undefined) texts.push(JSON.stringify(content));
    return 0;
  }
  let media = 0;
  for (const part of content) {
    if (isRecord(part) && part.type === 'text' && typeof part.text === 'string') texts.push(part.text);
    else if (isRecord(part) && typeof part.type === 'string' && MEDIA_PARTS.has(part.type)) media++;
    else texts.push(JSON.stringify(part) ?? '');
  }
  return media;
}

/**
 * Adds the text of the forwarded fields of `body` (all but `skip`) that the model may read: its
 * strings and structures (tools, a response format, documents…). Numbers and booleans are
 * sampling settings, which no provider bills as tokens.
 */
function collectForwarded(
  body: Readonly<Record<string, unknown>>,
  skip: ReadonlySet<string>,
  texts: string[],
): void {
  for (const [field, value] of Object.entries(body)) {
    if (skip.has(field) || value === null || value === undefined) continue;
    if (typeof value === 'string') texts.push(value);
    else if (typeof value === 'object') texts.push(JSON.stringify(value));
  }
}

/**
 * A chat prompt as sent upstream: every message's text (its content, and any other field such as
 * a name, tool calls or reasoning, all of which the model reads), plus the request's other
 * forwarded fields (tool definitions, response format…).
 */
export function chatPromptTokens(count: CountTokens, body: Readonly<Record<string, unknown>>): number {
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  const texts: string[] = [];
  let media = 0;
  for (const message of messages) {
    if (!isRecord(message)) continue;
    for (const [field, value] of Object.entries(message)) {
      if (field === 'content') media += collectContent(value, texts);
      else if (typeof value === 'string') texts.push(value);
      else if (value !== null && value !== undefined) texts.push(JSON.stringify(value));
    }
  }
  collectForwarded(body, CHAT_CONTROLLED, texts);
  return (
    countBounded(count, texts.join('\n')) +
    messages.length * TOKENS_PER_MESSAGE +
    TOKENS_PER_REPLY +
    media * MEDIA_TOKENS_TYPICAL
  );
}

/**
 * A legacy completions request: its prompts (texts, or token arrays at one token an entry), each
 * read with the request's other forwarded fields (a suffix, say).
 */
export function completionsPromptTokens(
  count: CountTokens,
  prompts: readonly (string | readonly number[])[],
  body: Readonly<Record<string, unknown>>,
): number {
  const extras: string[] = [];
  collectForwarded(body, COMPLETIONS_CONTROLLED, extras);
  const perPrompt = extras.length > 0 ? countBounded(count, extras.join('\n')) : 0;
  return textInputTokens(count, prompts) + Math.max(1, prompts.length) * perPrompt;
}

/** An embeddings input or legacy prompts: a text, texts, or token arrays (one token an entry). */
export function textInputTokens(
  count: CountTokens,
  input: string | readonly (string | number | readonly number[])[],
): number {
  if (typeof input === 'string') return countBounded(count, input);
  const texts: string[] = [];
  let tokens = 0;
  for (const item of input) {
    if (typeof item === 'string') texts.push(item);
    else if (Array.isArray(item)) tokens += item.length;
    else tokens += 1;
  }
  return tokens + (texts.length > 0 ? countBounded(count, texts.join('\n')) : 0);
}

/** The output relayed to the client: its text, reasoning, tool-call arguments and refusals. */
export function outputTokens(count: CountTokens, text: string): number {
  return countBounded(count, text);
}
