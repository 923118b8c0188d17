import { chatCompletion } from '../openai-shapes.js';

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

/** The text and function calls of the first candidate. Thought summaries are not the answer. */
export function candidateParts(response: Json): {
  text: string;
  calls: { name: string; args: unknown }[];
  finish: unknown;
} {
  const candidate = Array.isArray(response.candidates)
    ? (response.candidates[0] as Json | undefined)
    : undefined;
  const content = candidate?.content as { parts?: Json[] } | undefined;
  let text = '';
  const calls: { name: string; args: unknown }[] = [];
  for (const part of content?.parts ?? []) {
    if (typeof part.text === 'string' && part.thought !== true) text += part.text;
    const call = part.functionCall as { name?: string; args?: unknown } | undefined;
    if (call?.name) calls.push({ name: call.name, args: call.args ?? {} });
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
    // Gemini gives function calls no ids; OpenAI clients need one to answer each call.
    toolCalls: calls.map((call, index) => ({ id: `call_${index}`, name: call.name, input: call.args })),
    finishReason: mapFinishReason(finish, calls.length > 0) ?? 'stop',
    usage: convertUsage((response.usageMetadata as GeminiUsage) ?? {}),
  });
}
