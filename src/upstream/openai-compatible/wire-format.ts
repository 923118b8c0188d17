import type { TokenUsage } from '../../domain/pricing.js';
import type { ChatWireFormat, JsonAnswer, StreamTranslator } from '../../ports/chat-wire.js';
import { carriesUsage, deliversOutput, eventData, isDoneEvent, SseEventSplitter } from '../sse-events.js';
import { parseUsage, usageFromJson } from './usage.js';

/** About four bytes a token of the answer's text, for an upstream that reported no usage. */
function outputTokensOf(parsed: unknown): number {
  const choices = (parsed as { choices?: { message?: { content?: unknown } }[] }).choices;
  const text = Array.isArray(choices)
    ? choices.map((c) => (typeof c?.message?.content === 'string' ? c.message.content : '')).join('')
    : '';
  return Math.ceil(Buffer.byteLength(text) / 4);
}

/** Pulls the usage out of a usage event; also says whether the event is nothing but usage. */
function readUsageEvent(event: Buffer): { usage: TokenUsage | undefined; usageOnly: boolean } {
  try {
    const payload = JSON.parse(eventData(event)) as { choices?: unknown };
    const usageOnly = Array.isArray(payload.choices) && payload.choices.length === 0;
    return { usage: parseUsage(payload), usageOnly };
  } catch {
    return { usage: undefined, usageOnly: false };
  }
}

/**
 * The provider already speaks OpenAI's format: events are forwarded as the bytes that arrived,
 * looking only at framing and a few keys. The usage-only chunk (Tollgate always asks for it) is
 * passed on only to a client that asked for it.
 */
class PassThroughStream implements StreamTranslator {
  usage: TokenUsage | undefined;
  outputEvents = 0;
  ended = false;
  readonly failed = false;
  private readonly splitter = new SseEventSplitter();

  constructor(private readonly clientWantsUsage: boolean) {}

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    if (this.ended) return out;
    for (const event of this.splitter.push(chunk)) {
      if (isDoneEvent(event)) {
        this.ended = true;
        break;
      }
      if (carriesUsage(event)) {
        const read = readUsageEvent(event);
        this.usage = read.usage ?? this.usage;
        if (read.usageOnly && !this.clientWantsUsage) continue;
      }
      if (deliversOutput(event)) this.outputEvents++;
      out.push(event);
    }
    return out;
  }
}

export const openAiCompatibleFormat: ChatWireFormat = {
  path: () => '/chat/completions',
  requestBody: (body) => JSON.stringify(body),
  response(raw: Buffer): JsonAnswer | undefined {
    // Most answers carry usage: read just that object. Only an answer without it is parsed whole.
    const usage = usageFromJson(raw);
    if (usage) return { json: raw, usage, estimatedOutputTokens: 0 };
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      return { json: raw, usage: parseUsage(parsed), estimatedOutputTokens: outputTokensOf(parsed) };
    } catch {
      return undefined;
    }
  },
  stream: (clientWantsUsage) => new PassThroughStream(clientWantsUsage),
};
