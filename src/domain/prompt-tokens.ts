/**
 * Token counts for a chat request before the model has seen it.
 *
 * The hold must be an upper bound, or a request could cost more than was held and push the balance
 * below zero. Byte-level BPE tokenizers (GPT, Llama, DeepSeek, Mistral, Qwen) never emit a token
 * shorter than one byte of UTF-8, so the UTF-8 length of the text bounds its tokens. Chat templates
 * add a few tokens per message, and images are priced per image by every provider, not per byte.
 */
const TEMPLATE_TOKENS_PER_MESSAGE = 16;
const TEMPLATE_TOKENS_PER_REQUEST = 32;
/** Above the most any provider bills for one image (OpenAI's largest high-detail image is about 2,500). */
const IMAGE_TOKENS_CEILING = 3_000;
/** A typical high-detail image, used only when the upstream reported no usage at all. */
const IMAGE_TOKENS_TYPICAL = 765;

export interface PromptSize {
  readonly textBytes: number;
  readonly messages: number;
  readonly images: number;
}

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

function measureContent(content: unknown, size: { textBytes: number; images: number }): void {
  if (typeof content === 'string') {
    size.textBytes += utf8Length(content);
    return;
  }
  if (!Array.isArray(content)) {
    if (content !== null && content !== undefined) size.textBytes += utf8Length(JSON.stringify(content));
    return;
  }
  for (const part of content) {
    if (isRecord(part) && part.type === 'image_url') size.images += 1;
    else if (isRecord(part) && part.type === 'text' && typeof part.text === 'string') {
      size.textBytes += utf8Length(part.text);
    } else size.textBytes += utf8Length(JSON.stringify(part) ?? '');
  }
}

/** Measures messages plus whatever else the model reads: tool definitions and response formats. */
export function measurePrompt(messages: readonly unknown[], extras: readonly unknown[]): PromptSize {
  const size = { textBytes: 0, images: 0 };
  for (const message of messages) {
    if (!isRecord(message)) continue;
    measureContent(message.content, size);
    for (const field of ['role', 'name', 'tool_call_id'] as const) {
      const value = message[field];
      if (typeof value === 'string') size.textBytes += utf8Length(value);
    }
    // Tool calls, and the legacy function_call, are read by the model and billed as prompt.
    for (const field of ['tool_calls', 'function_call'] as const) {
      if (message[field] !== undefined) size.textBytes += utf8Length(JSON.stringify(message[field]));
    }
  }
  for (const extra of extras) {
    if (extra !== undefined) size.textBytes += utf8Length(JSON.stringify(extra));
  }
  return { textBytes: size.textBytes, messages: messages.length, images: size.images };
}

export function promptTokensCeiling(size: PromptSize): number {
  return (
    size.textBytes +
    size.messages * TEMPLATE_TOKENS_PER_MESSAGE +
    size.images * IMAGE_TOKENS_CEILING +
    TEMPLATE_TOKENS_PER_REQUEST
  );
}

/** About four bytes of text a token; used only when an upstream never reported usage. */
export function promptTokensEstimate(size: PromptSize): number {
  return Math.ceil(size.textBytes / 4) + size.messages * 4 + size.images * IMAGE_TOKENS_TYPICAL;
}
