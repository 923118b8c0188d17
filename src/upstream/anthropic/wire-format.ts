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

/** Anthropic's events, parsed one by one, re-emitted as OpenAI chunks. */
class AnthropicStream implements StreamTranslator {
  outputEvents = 0;
  private readonly splitter = new SseEventSplitter();
  private readonly converter: AnthropicStreamConverter;

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
      if (parsed.type === 'content_block_delta') this.outputEvents++;
      for (const openAiChunk of this.converter.push(parsed))
        out.push(Buffer.from(`data: ${JSON.stringify(openAiChunk)}\n\n`));
    }
    return out;
  }
}

export const anthropicFormat: ChatWireFormat = {
  openAiNative: false,
  embeddingsUsage: undefined,
  path: () => '/messages',
  requestBody: (body) => JSON.stringify(convertRequest(body as Record<string, unknown>)),
  response(raw: Buffer, createdAt: number): JsonAnswer | undefined {
    try {
      const parsed = JSON.parse(raw.toString('utf8'));
      const converted = convertResponse(parsed, createdAt);
      const text = converted.choices[0]?.message.content ?? '';
      return {
        json: Buffer.from(JSON.stringify(converted)),
        // An answer without usage is charged on an estimate, never as free.
        usage: typeof parsed.usage?.output_tokens === 'number' ? toTokenUsage(converted.usage) : undefined,
        estimatedOutputTokens: Math.ceil(Buffer.byteLength(text) / 4),
      };
    } catch {
      return undefined;
    }
  },
  stream: (clientWantsUsage, createdAt) => new AnthropicStream(clientWantsUsage, createdAt),
};
