import { chatCompletion } from '../openai-shapes.js';
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
    .map((block) => ({ id: String(block.id), name: String(block.name), input: block.input }));
  return chatCompletion({
    id: response.id,
    created,
    model: response.model,
    text,
    toolCalls,
    finishReason: mapFinishReason(response.stop_reason),
    usage: convertUsage(response.usage),
  });
}
