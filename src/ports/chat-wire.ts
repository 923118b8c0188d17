import type { TokenUsage } from '../domain/pricing.js';

/**
 * How one provider speaks chat completions. Clients always speak OpenAI's format to Tollgate; a
 * wire format turns Tollgate's OpenAI-shaped request into the provider's, and the provider's answer
 * back into OpenAI's. The OpenAI-compatible format passes bytes through untouched.
 */
export interface ChatWireFormat {
  /** The provider speaks OpenAI's API itself, so it also serves the legacy `/completions`. */
  readonly openAiNative: boolean;
  /**
   * For a provider that also serves OpenAI's `/embeddings`: the usage of an embeddings answer.
   * Undefined for a provider without that API.
   */
  readonly embeddingsUsage: ((raw: Buffer) => TokenUsage | undefined) | undefined;
  /** The provider path under its base URL (Gemini puts the model and the streaming mode there). */
  path(upstreamModel: string, stream: boolean): string;
  requestBody(openAiBody: Readonly<Record<string, unknown>>): string;
  /**
   * A complete JSON answer, in OpenAI's shape; undefined when the provider's answer is malformed or
   * cut short (not the whole JSON document, or without the provider's own finish or stop reason).
   */
  response(raw: Buffer, createdAt: number): JsonAnswer | undefined;
  stream(clientWantsUsage: boolean, createdAt: number): StreamTranslator;
}

export interface JsonAnswer {
  readonly json: Buffer;
  /** What the provider reported, if it did. */
  readonly usage: TokenUsage | undefined;
  /** The answer's output text, to estimate its tokens when the provider reported no usage. */
  outputText(): string;
}

/** Turns a provider's stream, chunk by chunk, into OpenAI SSE events for the client. */
export interface StreamTranslator {
  /** Client-ready `data: …\n\n` events for this chunk of the provider's stream. */
  push(chunk: Buffer): Buffer[];
  /** Usage the provider reported, once it has. */
  readonly usage: TokenUsage | undefined;
  /**
   * The output relayed so far (content, reasoning, tool-call arguments, refusals), as one text.
   * Translators keep it cheaply (strings, or the raw bytes of JSON strings) and build it only when
   * asked: it is read only to estimate a stream whose usage never arrived.
   */
  relayedText(): string;
  /** The provider's own end of the answer arrived: a finish reason, or Anthropic's message_stop. */
  readonly complete: boolean;
  /** Nothing more is to be read: the provider's end-of-stream marker, or an error event. */
  readonly ended: boolean;
  /** The provider ended the stream with an error event of its own. */
  readonly failed: boolean;
  /**
   * What the client is told when the provider refused the request itself rather than failed (a
   * prompt blocked by its content filter), in place of the generic upstream error.
   */
  readonly refusal?: StreamRefusal | undefined;
}

export interface StreamRefusal {
  /** The status the usage record keeps; the client's stream has already begun with 200. */
  readonly status: number;
  readonly code: string;
  readonly message: string;
}
