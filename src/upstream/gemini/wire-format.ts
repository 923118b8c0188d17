import { type TokenUsage, tokenUsage } from '../../domain/pricing.js';
import type { ChatWireFormat, JsonAnswer, StreamRefusal, StreamTranslator } from '../../ports/chat-wire.js';
import { eventData, SseEventSplitter } from '../sse-events.js';
import { newCallId } from '../tool-call-ids.js';
import { convertRequest } from './convert-request.js';
import {
  blockedPromptMessage,
  candidateParts,
  convertResponse,
  convertUsage,
  type GeminiUsage,
  mapFinishReason,
  promptBlockReason,
} from './convert-response.js';

type Json = Record<string, unknown>;

/** Tokens served from Gemini's context cache are part of the prompt, billed at the cache rate. */
const toTokenUsage = (usage: ReturnType<typeof convertUsage>): TokenUsage =>
  tokenUsage(usage.prompt_tokens, usage.completion_tokens, usage.prompt_tokens_details.cached_tokens);

/**
 * The output text of a response's first candidate, thoughts included (Gemini bills them as output,
 * so they count for an estimate even though they are not relayed), and its function calls' arguments.
 */
function outputTextOf(response: Json): string {
  const candidate = Array.isArray(response.candidates)
    ? (response.candidates[0] as Json | undefined)
    : undefined;
  const parts = (candidate?.content as { parts?: Json[] } | undefined)?.parts ?? [];
  let text = '';
  for (const part of parts) {
    if (typeof part.text === 'string') text += part.text;
    if (part.functionCall) text += JSON.stringify((part.functionCall as Json).args ?? {});
  }
  return text;
}

/**
 * Gemini's `streamGenerateContent?alt=sse`: each event is a whole GenerateContentResponse with the
 * next piece of the answer; the last carries the finish reason and the usage. There is no end
 * marker: the stream ends when the connection does, and the answer is complete only if a
 * candidate had a finish reason by then.
 */
class GeminiStream implements StreamTranslator {
  readonly ended = false;
  failed = false;
  refusal: StreamRefusal | undefined;
  private usageMetadata: GeminiUsage | undefined;
  private finished = false;
  private readonly output: string[] = [];
  private readonly splitter = new SseEventSplitter();
  private started = false;
  private toolCalls = 0;
  private readonly id: string;

  constructor(
    private readonly clientWantsUsage: boolean,
    private readonly created: number,
    private model: string,
  ) {
    this.id = `gen-${created}-${Math.random().toString(36).slice(2, 10)}`;
  }

  /**
   * Usage once the last chunk (the one with a finish reason) has reported it: earlier chunks carry
   * only the prompt's count, and a stream cut before the end is charged for what was relayed.
   */
  get usage(): TokenUsage | undefined {
    return this.finished && this.usageMetadata ? toTokenUsage(convertUsage(this.usageMetadata)) : undefined;
  }

  get complete(): boolean {
    return this.finished;
  }

  relayedText(): string {
    return this.output.join('');
  }

  push(chunk: Buffer): Buffer[] {
    const out: Json[] = [];
    for (const event of this.splitter.push(chunk)) {
      let response: Json;
      try {
        response = JSON.parse(eventData(event)) as Json;
      } catch {
        continue;
      }
      if (response.error) {
        this.failed = true;
        continue;
      }
      out.push(...this.translate(response));
    }
    return out.map((payload) => Buffer.from(`data: ${JSON.stringify(payload)}\n\n`));
  }

  private translate(response: Json): Json[] {
    const chunks: Json[] = [];
    if (typeof response.modelVersion === 'string') this.model = response.modelVersion;
    const blocked = promptBlockReason(response);
    if (blocked) {
      // The only event of a blocked prompt's stream. Gemini counts the prompt, which is charged.
      if (response.usageMetadata) this.usageMetadata = response.usageMetadata as GeminiUsage;
      this.finished = true;
      this.failed = true;
      this.refusal = { status: 400, code: 'content_filter', message: blockedPromptMessage(blocked) };
      return chunks;
    }
    if (!this.started) {
      this.started = true;
      chunks.push(
        this.chunk([
          { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
        ]),
      );
    }
    const { text, calls, finish } = candidateParts(response);
    const output = outputTextOf(response);
    if (output !== '') this.output.push(output);
    if (text !== '')
      chunks.push(this.chunk([{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }]));
    for (const call of calls) {
      const index = this.toolCalls++;
      const delta = {
        tool_calls: [
          {
            index,
            id: newCallId(call.signature),
            type: 'function',
            function: { name: call.name, arguments: JSON.stringify(call.args) },
          },
        ],
      };
      chunks.push(this.chunk([{ index: 0, delta, logprobs: null, finish_reason: null }]));
    }
    if (response.usageMetadata) this.usageMetadata = response.usageMetadata as GeminiUsage;
    const reason = mapFinishReason(finish, this.toolCalls > 0);
    if (reason) {
      this.finished = true;
      chunks.push(this.chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: reason }]));
      if (this.clientWantsUsage && this.usageMetadata)
        chunks.push({ ...this.chunk([]), usage: convertUsage(this.usageMetadata) });
    }
    return chunks;
  }

  private chunk(choices: Json[]): Json {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices,
    };
  }
}

export const geminiFormat: ChatWireFormat = {
  openAiNative: false,
  embeddingsUsage: undefined,
  path: (model, stream) =>
    `/models/${encodeURIComponent(model)}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
  requestBody: (body) => JSON.stringify(convertRequest(body as Json)),
  response(raw: Buffer, createdAt: number): JsonAnswer | undefined {
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as Json;
      // A blocked prompt is a whole answer with no candidate; any other answer is whole when its
      // candidate has a finish reason, and was cut short without one.
      if (!promptBlockReason(parsed)) {
        if (!Array.isArray(parsed.candidates)) return undefined;
        if (mapFinishReason(candidateParts(parsed).finish, false) === null) return undefined;
      }
      const converted = convertResponse(parsed, '', createdAt);
      return {
        json: Buffer.from(JSON.stringify(converted)),
        usage: parsed.usageMetadata ? toTokenUsage(converted.usage) : undefined,
        outputText: () => outputTextOf(parsed),
      };
    } catch {
      return undefined;
    }
  },
  stream: (clientWantsUsage, createdAt) => new GeminiStream(clientWantsUsage, createdAt, ''),
};
