/**
 * Token counts for a request before the model has seen it.
 *
 * The hold must be an upper bound, or a request could cost more than was held and push the balance
 * below zero. Byte-level BPE tokenizers (GPT, Llama, DeepSeek, Mistral, Qwen) never emit a token
 * shorter than one byte of UTF-8, so the UTF-8 length of the text bounds its tokens. Everything a
 * request forwards to the provider is text the model may read, so everything forwarded is counted,
 * wherever it sits, except what Tollgate itself sets (the model, the output limit, streaming).
 * Chat templates add a few tokens per message, and media are priced per part by every provider,
 * not per byte: an image or a file holds the model's allowance for one part instead of its size.
 */
const TEMPLATE_TOKENS_PER_MESSAGE = 16;
const TEMPLATE_TOKENS_PER_REQUEST = 32;
/** Above the most any provider bills for one image (OpenAI's largest high-detail image is about 2,500). */
export const IMAGE_TOKENS_CEILING = 3_000;
/**
 * OpenAI reads at most 100 pages of a PDF, each as its extracted text and an image of the page;
 * 3,000 tokens a page bounds both.
 */
export const FILE_TOKENS_CEILING = 300_000;

export interface PromptSize {
  /** UTF-8 bytes of every forwarded text and value, media payloads aside. */
  readonly textBytes: number;
  readonly messages: number;
  readonly images: number;
  readonly files: number;
  readonly audios: number;
  /** UTF-8 bytes of the audio parts' data: their ceiling when the model sets no allowance per part. */
  readonly audioBytes: number;
  /** Prompts the provider reads one by one (a legacy prompt array), each with its own framing. */
  readonly prompts: number;
}

/** What a model's configuration says one media part and the provider's own additions may cost. */
export interface PromptAllowance {
  readonly imageTokens: number;
  readonly fileTokens: number;
  /**
   * Tokens one input_audio part may cost; undefined holds the part at the size of its data, which
   * bounds every audio tokenizer (a few dozen tokens a second, against a thousand bytes or more).
   */
  readonly audioTokens: number | undefined;
  /** Tokens the provider adds to every prompt, such as Anthropic's tool-use system prompt. */
  readonly overheadTokens: number;
}

export const DEFAULT_PROMPT_ALLOWANCE: PromptAllowance = {
  imageTokens: IMAGE_TOKENS_CEILING,
  fileTokens: FILE_TOKENS_CEILING,
  audioTokens: undefined,
  overheadTokens: 0,
};

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      // A surrogate pair is one code point of four bytes.
      bytes += 4;
      i++;
    } else bytes += 3; // Any other BMP unit, a lone surrogate included (encoded as U+FFFD).
  }
  return bytes;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A value's size as sent: a string by its text, anything else by its JSON. */
export function valueBytes(value: unknown): number {
  if (typeof value === 'string') return utf8Length(value);
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
  return utf8Length(JSON.stringify(value) ?? '');
}

interface Tally {
  textBytes: number;
  images: number;
  files: number;
  audios: number;
  audioBytes: number;
}

/**
 * The values of a content part, except the media payload at `part[mediaKey][payloadKey]` (or a
 * bare string at `part[mediaKey]`), whose cost is the part's allowance instead.
 */
function partBytes(part: Record<string, unknown>, mediaKey: string, payloadKey: string): number {
  let bytes = 0;
  for (const key of Object.keys(part)) {
    const value = part[key];
    if (key !== mediaKey) bytes += valueBytes(value);
    else if (isRecord(value) && !Array.isArray(value)) {
      for (const inner of Object.keys(value)) if (inner !== payloadKey) bytes += valueBytes(value[inner]);
    }
  }
  return bytes;
}

function measurePart(part: unknown, tally: Tally): void {
  if (!isRecord(part) || Array.isArray(part)) {
    tally.textBytes += valueBytes(part);
    return;
  }
  switch (part.type) {
    case 'image_url':
      tally.images += 1;
      tally.textBytes += partBytes(part, 'image_url', 'url');
      return;
    case 'file':
      tally.files += 1;
      tally.textBytes += partBytes(part, 'file', 'file_data');
      return;
    case 'input_audio': {
      const audio = part.input_audio;
      tally.audios += 1;
      // Only its data's size is read, never the data turned into JSON.
      if (isRecord(audio) && typeof audio.data === 'string') tally.audioBytes += utf8Length(audio.data);
      tally.textBytes += partBytes(part, 'input_audio', 'data');
      return;
    }
    case 'text':
      // Its text and every other value it carries.
      tally.textBytes += partBytes(part, '', '');
      return;
    default:
      // A kind Tollgate does not know, read as the provider may: all of its JSON.
      tally.textBytes += valueBytes(part);
  }
}

function measureContent(content: unknown, tally: Tally): void {
  if (typeof content === 'string') tally.textBytes += utf8Length(content);
  else if (Array.isArray(content)) for (const part of content) measurePart(part, tally);
  else tally.textBytes += valueBytes(content);
}

function newTally(): Tally {
  return { textBytes: 0, images: 0, files: 0, audios: 0, audioBytes: 0 };
}

function measureMessages(messages: readonly unknown[], tally: Tally): void {
  for (const message of messages) {
    if (!isRecord(message)) continue;
    // Every field of a message is forwarded: role, name, tool calls, reasoning_content, refusal,
    // audio, and whatever a client adds. The model or the provider may read any of them.
    for (const key of Object.keys(message)) {
      if (key === 'content') measureContent(message.content, tally);
      else tally.textBytes += valueBytes(message[key]);
    }
  }
}

function sizeOf(tally: Tally, messages: number, prompts: number): PromptSize {
  return {
    textBytes: tally.textBytes,
    messages,
    images: tally.images,
    files: tally.files,
    audios: tally.audios,
    audioBytes: tally.audioBytes,
    prompts,
  };
}

/** Measures messages plus other values the model reads, such as tool definitions. */
export function measurePrompt(messages: readonly unknown[], extras: readonly unknown[]): PromptSize {
  const tally = newTally();
  measureMessages(messages, tally);
  for (const extra of extras) tally.textBytes += valueBytes(extra);
  return sizeOf(tally, messages.length, 1);
}

/** The UTF-8 size of every field of `body` but those named in `skip`. */
export function forwardedBytes(body: Readonly<Record<string, unknown>>, skip: ReadonlySet<string>): number {
  let bytes = 0;
  for (const key of Object.keys(body)) if (!skip.has(key)) bytes += valueBytes(body[key]);
  return bytes;
}

/** Fields of a chat request that Tollgate sets or bounds itself; none of them is read as prompt. */
export const CHAT_CONTROLLED = new Set([
  'model',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'stream',
  'stream_options',
  'n',
]);

/** A chat request: its messages and every other field forwarded (tools, response_format, documents, …). */
export function measureChatPrompt(body: Readonly<Record<string, unknown>>): PromptSize {
  const messages = Array.isArray(body.messages) ? (body.messages as readonly unknown[]) : [];
  const tally = newTally();
  measureMessages(messages, tally);
  tally.textBytes += forwardedBytes(body, CHAT_CONTROLLED);
  return sizeOf(tally, messages.length, 1);
}

/** The same for a legacy completions request. */
export const COMPLETIONS_CONTROLLED = new Set([
  'model',
  'prompt',
  'max_tokens',
  'max_completion_tokens',
  'stream',
  'stream_options',
  'n',
  'best_of',
]);

/**
 * A legacy completions request: each prompt is read on its own, a token array at one token an
 * entry, and every other forwarded field (a suffix, say) goes with each prompt.
 */
export function measureCompletionsPrompt(
  prompts: readonly (string | readonly number[])[],
  body: Readonly<Record<string, unknown>>,
): PromptSize {
  const count = Math.max(1, prompts.length);
  let textBytes = count * forwardedBytes(body, COMPLETIONS_CONTROLLED);
  for (const prompt of prompts) textBytes += typeof prompt === 'string' ? utf8Length(prompt) : prompt.length;
  return { textBytes, messages: count, images: 0, files: 0, audios: 0, audioBytes: 0, prompts: count };
}

export function promptTokensCeiling(
  size: PromptSize,
  allowance: PromptAllowance = DEFAULT_PROMPT_ALLOWANCE,
): number {
  const audio = allowance.audioTokens === undefined ? size.audioBytes : size.audios * allowance.audioTokens;
  return (
    size.textBytes +
    size.messages * TEMPLATE_TOKENS_PER_MESSAGE +
    size.images * allowance.imageTokens +
    size.files * allowance.fileTokens +
    audio +
    size.prompts * (TEMPLATE_TOKENS_PER_REQUEST + allowance.overheadTokens)
  );
}
