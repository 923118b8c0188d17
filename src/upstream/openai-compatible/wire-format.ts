import type { OpenAiQuirks } from '../../config/load-config.js';
import type { TokenUsage } from '../../domain/pricing.js';
import type { ChatWireFormat, JsonAnswer, StreamTranslator } from '../../ports/chat-wire.js';
import {
  carriesFinishReason,
  carriesUsage,
  eventData,
  isDoneEvent,
  RelayedOutput,
  SseEventSplitter,
} from '../sse-events.js';
import { withPlainCallIds } from '../tool-call-ids.js';
import { answerOutputText, isCompleteAnswer, outputTextOf } from './complete-answer.js';
import { parseUsage, usageFromJson, usageObjectFromJson } from './usage.js';

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
 * passed on only to a client that asked for it. The answer is complete once a choice has a
 * finish reason; `[DONE]` or the end of the body then ends the stream.
 */
class PassThroughStream implements StreamTranslator {
  usage: TokenUsage | undefined;
  complete = false;
  ended = false;
  readonly failed = false;
  private readonly splitter = new SseEventSplitter();
  private readonly output = new RelayedOutput();

  constructor(private readonly clientWantsUsage: boolean) {}

  relayedText(): string {
    return this.output.text();
  }

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
      const afterDelta = this.output.collect(event);
      if (!this.complete && carriesFinishReason(event, afterDelta)) this.complete = true;
      out.push(event);
    }
    return out;
  }
}

/** The request fields of OpenAI's chat completions API: what a strict server is sent when unknown fields are dropped. */
const KNOWN_FIELDS = new Set([
  'model',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'stream',
  'stream_options',
  'temperature',
  'top_p',
  'n',
  'stop',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'user',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'seed',
  'service_tier',
  'store',
  'metadata',
  'reasoning_effort',
  'modalities',
  'audio',
  'prediction',
  'web_search_options',
  'functions',
  'function_call',
  'verbosity',
  'prompt_cache_key',
  'safety_identifier',
]);

/**
 * Applies a server's declared quirks to the request Tollgate would send an OpenAI-compatible API.
 * Tollgate's request carries the held output limit in max_tokens; it goes in the one field the
 * server reads, so that the limit that was held is the limit the server obeys.
 */
export function applyQuirks(
  body: Readonly<Record<string, unknown>>,
  quirks: OpenAiQuirks,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(body)) {
    if (quirks.unknownFields === 'pass' || KNOWN_FIELDS.has(field)) out[field] = value;
  }
  if (!quirks.streamUsage) delete out.stream_options;
  const limit = out.max_tokens ?? out.max_completion_tokens;
  delete out.max_tokens;
  delete out.max_completion_tokens;
  if (limit !== undefined) out[quirks.maxTokensField] = limit;
  return out;
}

export const DEFAULT_QUIRKS: OpenAiQuirks = {
  unknownFields: 'pass',
  streamUsage: true,
  maxTokensField: 'max_tokens',
};

export function openAiCompatibleFormat(quirks: OpenAiQuirks = DEFAULT_QUIRKS): ChatWireFormat {
  const plain =
    quirks.unknownFields === 'pass' && quirks.streamUsage && quirks.maxTokensField === 'max_tokens';
  return {
    ...passThrough,
    // The common case sends Tollgate's body as it is, without copying it: its limit is already in
    // max_tokens. Tool call ids that carry a Gemini thought signature are sent plain: OpenAI refuses
    // ids over 40 characters.
    requestBody: plain
      ? (body) => JSON.stringify(withPlainCallIds(body))
      : (body) => JSON.stringify(applyQuirks(withPlainCallIds(body), quirks)),
  };
}

const passThrough: ChatWireFormat = {
  openAiNative: true,
  embeddingsUsage(raw: Buffer): TokenUsage | undefined {
    // Embeddings answers are mostly numbers: only the usage object at their end is parsed.
    const usage = usageObjectFromJson(raw) as { prompt_tokens?: unknown } | undefined;
    const prompt = usage?.prompt_tokens;
    return typeof prompt === 'number' && Number.isInteger(prompt) && prompt >= 0
      ? { promptTokens: prompt, completionTokens: 0 }
      : undefined;
  },
  path: () => '/chat/completions',
  requestBody: (body) => JSON.stringify(withPlainCallIds(body)),
  response(raw: Buffer): JsonAnswer | undefined {
    // Cut short, the answer is an upstream error, whatever it says. The check reads bytes only.
    if (!isCompleteAnswer(raw)) return undefined;
    // Most answers carry usage: read just that object. Only an answer without it is parsed whole.
    const usage = usageFromJson(raw);
    if (usage) return { json: raw, usage, outputText: () => answerOutputText(raw) };
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      return { json: raw, usage: parseUsage(parsed), outputText: () => outputTextOf(parsed) };
    } catch {
      return undefined;
    }
  },
  stream: (clientWantsUsage) => new PassThroughStream(clientWantsUsage),
};
