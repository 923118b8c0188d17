import { type TokenUsage, tokenUsage } from '../../domain/pricing.js';
import type { ChatWireFormat, JsonAnswer, StreamTranslator } from '../../ports/chat-wire.js';
import { eventData, SseEventSplitter } from '../sse-events.js';
import { convertRequest } from './convert-request.js';
import { convertResponse } from './convert-response.js';
import { AnthropicStreamConverter } from './convert-stream.js';
import type { OpenAiUsage } from './usage.js';

/** Cache reads and writes stay apart: Anthropic bills them at their own rates. */
const toTokenUsage = (usage: OpenAiUsage): TokenUsage =>
  tokenUsage(
    usage.prompt_tokens,
    usage.completion_tokens,
    usage.prompt_tokens_details.cached_tokens,
    usage.prompt_tokens_details.cache_write_tokens,
  );

/**
 * The text a content block delta adds to the answer: text, tool input, and thinking (billed as
 * output by Anthropic, so it counts for an estimate even where it is not relayed).
 */
function deltaText(delta: unknown): string | undefined {
  if (typeof delta !== 'object' || delta === null) return undefined;
  const { text, partial_json: json, thinking } = delta as Record<string, unknown>;
  if (typeof text === 'string') return text;
  if (typeof json === 'string') return json;
  return typeof thinking === 'string' ? thinking : undefined;
}

/** Anthropic's events, parsed one by one, re-emitted as OpenAI chunks. Complete at message_stop. */
class AnthropicStream implements StreamTranslator {
  private readonly splitter = new SseEventSplitter();
  private readonly converter: AnthropicStreamConverter;
  private readonly output: string[] = [];

  constructor(clientWantsUsage: boolean, createdAt: number) {
    this.converter = new AnthropicStreamConverter('', createdAt, clientWantsUsage);
  }

  get usage(): TokenUsage | undefined {
    const usage = this.converter.reportedUsage;
    return usage ? toTokenUsage(usage) : undefined;
  }

  get ended(): boolean {
    return this.converter.done;
  }

  /** The converter is done at message_stop or at an error event; only the first is the answer's end. */
  get complete(): boolean {
    return this.converter.done && this.converter.error === undefined;
  }

  relayedText(): string {
    return this.output.join('');
  }

  get failed(): boolean {
    return this.converter.error !== undefined;
  }

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    for (const event of this.splitter.push(chunk)) {
      if (this.converter.done) break;
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(eventData(event)) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (parsed.type === 'content_block_delta') {
        const text = deltaText(parsed.delta);
        if (text) this.output.push(text);
      }
      for (const openAiChunk of this.converter.push(parsed))
        out.push(Buffer.from(`data: ${JSON.stringify(openAiChunk)}\n\n`));
    }
    return out;
  }
}

function isFinishedMessage(parsed: unknown): boolean {
  if (typeof parsed !== 'object' || parsed === null) return false;
  const { type, stop_reason: stop, content } = parsed as Record<string, unknown>;
  return type === 'message' && typeof stop === 'string' && Array.isArray(content);
}

/** A content block's output text: text, a tool call's input, thinking. */
function blockText(block: unknown): string {
  if (typeof block !== 'object' || block === null) return '';
  const { type, text, input, thinking } = block as Record<string, unknown>;
  if (typeof text === 'string') return text;
  if (typeof thinking === 'string') return thinking;
  return type === 'tool_use' ? JSON.stringify(input ?? {}) : '';
}

export const anthropicFormat: ChatWireFormat = {
  openAiNative: false,
  embeddingsUsage: undefined,
  path: () => '/messages',
  requestBody: (body) => JSON.stringify(convertRequest(body as Record<string, unknown>)),
  response(raw: Buffer, createdAt: number): JsonAnswer | undefined {
    try {
      const parsed = JSON.parse(raw.toString('utf8'));
      // A message is whole when it has its stop reason; without one it was cut short.
      if (!isFinishedMessage(parsed)) return undefined;
      const converted = convertResponse(parsed, createdAt);
      return {
        json: Buffer.from(JSON.stringify(converted)),
        // An answer without usage is charged on an estimate, never as free.
        usage: typeof parsed.usage?.output_tokens === 'number' ? toTokenUsage(converted.usage) : undefined,
        outputText: () => (parsed.content as unknown[]).map(blockText).join(''),
      };
    } catch {
      return undefined;
    }
  },
  stream: (clientWantsUsage, createdAt) => new AnthropicStream(clientWantsUsage, createdAt),
};
