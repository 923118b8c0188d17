/** Small readers of OpenAI request shapes, shared by the adapters that convert them. */
export type Json = Record<string, unknown>;

export const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A tool call's `arguments` string as an object: Anthropic and Gemini both require an object, and
 * a model's malformed arguments are kept rather than lost.
 */
export function parseArguments(text: unknown): unknown {
  if (typeof text !== 'string' || text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    return { _raw: text };
  }
}

/** OpenAI's `stop` (a string or a list) as a list. */
export function stopList(stop: unknown): string[] {
  if (typeof stop === 'string') return [stop];
  return Array.isArray(stop) ? stop.map(String) : [];
}

/** OpenAI's `chat.completion` answer, built from what a converted provider answer holds. */
export function chatCompletion<U>(answer: {
  id: string;
  created: number;
  model: string;
  text: string;
  toolCalls: { id: string; name: string; input: unknown }[];
  finishReason: string | null;
  usage: U;
}) {
  const toolCalls = answer.toolCalls.map((call) => ({
    id: call.id,
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.input ?? {}) },
  }));
  return {
    id: answer.id,
    object: 'chat.completion',
    created: answer.created,
    model: answer.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          // OpenAI sends null content for an answer that is only tool calls.
          content: answer.text === '' && toolCalls.length > 0 ? null : answer.text,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          refusal: null,
        },
        logprobs: null,
        finish_reason: answer.finishReason,
      },
    ],
    usage: answer.usage,
  };
}
