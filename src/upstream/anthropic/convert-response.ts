import { mapFinishReason } from './map-finish-reason.js';
import { type AnthropicUsage, convertUsage } from './usage.js';

/** Anthropic Messages response → OpenAI chat.completion. Pure. */
interface AnthropicResponse {
  id: string;
  model: string;
  content: { type: string; text?: string; id?: string; name?: string; input?: unknown }[];
  stop_reason: string | null;
  usage: AnthropicUsage;
}

export function convertResponse(response: AnthropicResponse, created: number) {
  const text = response.content
    .filter((block) => block.type === 'text')
    .map((block) => block.text ?? '')
    .join('');
  const toolCalls = response.content
    .filter((block) => block.type === 'tool_use')
    .map((block) => ({
      id: block.id,
      type: 'function',
      function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
    }));
  return {
    id: response.id,
    object: 'chat.completion',
    created,
    model: response.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text === '' && toolCalls.length > 0 ? null : text,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          refusal: null,
        },
        logprobs: null,
        finish_reason: mapFinishReason(response.stop_reason),
      },
    ],
    usage: convertUsage(response.usage),
  };
}
