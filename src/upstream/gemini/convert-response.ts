import { chatCompletion } from '../openai-shapes.js';
import { newCallId } from '../tool-call-ids.js';

/**
 * Gemini GenerateContentResponse → OpenAI shapes. Pure. Used whole for a JSON answer and chunk by
 * chunk for a stream, whose last chunk carries the finish reason and the usage.
 */
type Json = Record<string, unknown>;

export interface GeminiUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
}

export function convertUsage(usage: GeminiUsage) {
  const prompt = usage.promptTokenCount ?? 0;
  // Thinking tokens are billed as output by Gemini, and reported apart from the answer's.
  const reasoning = usage.thoughtsTokenCount ?? 0;
  const completion = (usage.candidatesTokenCount ?? 0) + reasoning;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: usage.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: reasoning },
  };
}

export function mapFinishReason(reason: unknown, calledTools: boolean): string | null {
  if (reason === undefined || reason === null || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (calledTools) return 'tool_calls';
  if (reason === 'MAX_TOKENS') return 'length';
  if (
    ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY'].includes(
      String(reason),
    )
  ) {
    return 'content_filter';
  }
  return 'stop';
}

export interface GeminiCall {
  readonly name: string;
  readonly args: unknown;
  /** Gemini 3's thought signature on this functionCall part, to come back with it. */
  readonly signature: string | undefined;
}

/** The text and function calls of the first candidate. Thought summaries are not the answer. */
export function candidateParts(response: Json): {
  text: string;
  calls: GeminiCall[];
  finish: unknown;
} {
  const candidate = Array.isArray(response.candidates)
    ? (response.candidates[0] as Json | undefined)
    : undefined;
  const content = candidate?.content as { parts?: Json[] } | undefined;
  let text = '';
  const calls: GeminiCall[] = [];
  for (const part of content?.parts ?? []) {
    if (typeof part.text === 'string' && part.thought !== true) text += part.text;
    const call = part.functionCall as { name?: string; args?: unknown } | undefined;
    const signature = typeof part.thoughtSignature === 'string' ? part.thoughtSignature : undefined;
    if (call?.name) calls.push({ name: call.name, args: call.args ?? {}, signature });
  }
  return { text, calls, finish: candidate?.finishReason };
}

export function convertResponse(response: Json, model: string, created: number) {
  const { text, calls, finish } = candidateParts(response);
  return chatCompletion({
    id: typeof response.responseId === 'string' ? response.responseId : `gen-${created}`,
    created,
    model: typeof response.modelVersion === 'string' ? response.modelVersion : model,
    text,
    // Gemini gives function calls no ids; OpenAI clients need one to answer each call, and the id
    // carries the call's thought signature back (tool-call-ids.ts).
    toolCalls: calls.map((call) => ({ id: newCallId(call.signature), name: call.name, input: call.args })),
    // A blocked prompt is an answer with nothing in it, as OpenAI reports filtered content.
    finishReason: promptBlockReason(response)
      ? 'content_filter'
      : (mapFinishReason(finish, calls.length > 0) ?? 'stop'),
    usage: convertUsage((response.usageMetadata as GeminiUsage) ?? {}),
  });
}

/**
 * Why Gemini refused the prompt itself: a 200 with `promptFeedback.blockReason` and no candidate.
 * Undefined for any other answer.
 */
export function promptBlockReason(response: Json): string | undefined {
  const feedback = response.promptFeedback as { blockReason?: unknown } | undefined;
  const reason = feedback?.blockReason;
  const candidates = response.candidates;
  if (typeof reason !== 'string' || (Array.isArray(candidates) && candidates.length > 0)) return undefined;
  return reason;
}

/** What the client is told of a blocked prompt; the reason is Gemini's own code, such as SAFETY. */
export function blockedPromptMessage(reason: string): string {
  return `The prompt was blocked by the provider's content filter (${reason}).`;
}
