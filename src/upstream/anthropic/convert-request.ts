import { isRecord, type Json, parseArguments, stopList } from '../openai-shapes.js';
import { plainCallId } from '../tool-call-ids.js';

/**
 * OpenAI chat completion request → Anthropic Messages request. Pure: no IO, no configuration.
 * Anthropic takes the system prompt apart from the messages, wants user and assistant turns to
 * alternate, carries tool results in user turns, and requires max_tokens.
 */

export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string;
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  tools?: { name: string; description?: string; input_schema: unknown }[];
  tool_choice?: Json;
  metadata?: { user_id: string };
}

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: Json[];
}

function imageBlock(url: string): Json {
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (data) return { type: 'image', source: { type: 'base64', media_type: data[1], data: data[2] } };
  return { type: 'image', source: { type: 'url', url } };
}

function contentBlocks(content: unknown): Json[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  const blocks: Json[] = [];
  for (const part of content) {
    if (!isRecord(part)) continue;
    if (part.type === 'text' && typeof part.text === 'string') blocks.push({ type: 'text', text: part.text });
    if (part.type === 'image_url') {
      const url = isRecord(part.image_url) ? part.image_url.url : part.image_url;
      if (typeof url === 'string') blocks.push(imageBlock(url));
    }
  }
  return blocks;
}

function toolUseBlocks(toolCalls: unknown): Json[] {
  if (!Array.isArray(toolCalls)) return [];
  return toolCalls.filter(isRecord).map((call) => {
    const fn = isRecord(call.function) ? call.function : {};
    // A Gemini thought signature in the id (tool-call-ids.ts) is not Anthropic's to see.
    return { type: 'tool_use', id: plainCallId(call.id), name: fn.name, input: parseArguments(fn.arguments) };
  });
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  return contentBlocks(content)
    .map((block) => (typeof block.text === 'string' ? block.text : ''))
    .join('');
}

/** Appends to the last turn when it has the same role: Anthropic rejects two user turns in a row. */
function push(messages: AnthropicMessage[], role: 'user' | 'assistant', blocks: Json[]): void {
  if (blocks.length === 0) return;
  const last = messages.at(-1);
  if (last?.role === role) last.content.push(...blocks);
  else messages.push({ role, content: blocks });
}

function convertToolChoice(choice: unknown): Json | undefined {
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string') {
    return { type: 'tool', name: choice.function.name };
  }
  return undefined;
}

function convertTools(tools: unknown): AnthropicRequest['tools'] {
  if (!Array.isArray(tools)) return undefined;
  return tools.filter(isRecord).map((tool) => {
    const fn = isRecord(tool.function) ? tool.function : {};
    return {
      name: String(fn.name ?? ''),
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      input_schema: fn.parameters ?? { type: 'object', properties: {} },
    };
  });
}

/**
 * `body` is the request as Tollgate forwards it: model already replaced by the upstream name and
 * the output limit already bounded (in max_tokens or max_completion_tokens).
 */
export function convertRequest(body: Json): AnthropicRequest {
  const system: string[] = [];
  const messages: AnthropicMessage[] = [];
  for (const message of Array.isArray(body.messages) ? body.messages.filter(isRecord) : []) {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(textOf(message.content));
        break;
      case 'assistant':
        push(messages, 'assistant', [
          ...contentBlocks(message.content),
          ...toolUseBlocks(message.tool_calls),
        ]);
        break;
      case 'tool':
        push(messages, 'user', [
          {
            type: 'tool_result',
            tool_use_id: plainCallId(message.tool_call_id),
            content: textOf(message.content),
          },
        ]);
        break;
      default:
        push(messages, 'user', contentBlocks(message.content));
    }
  }
  const stop = stopList(body.stop);
  const tools = convertTools(body.tools);
  const toolChoice = convertToolChoice(body.tool_choice);
  const maxTokens = Number(body.max_completion_tokens ?? body.max_tokens);
  return {
    model: String(body.model),
    max_tokens: maxTokens,
    messages,
    ...(system.length > 0 ? { system: system.join('\n\n') } : {}),
    ...(body.stream === true ? { stream: true } : {}),
    ...(typeof body.temperature === 'number' ? { temperature: body.temperature } : {}),
    ...(typeof body.top_p === 'number' ? { top_p: body.top_p } : {}),
    ...(stop.length > 0 ? { stop_sequences: stop } : {}),
    ...(tools && tools.length > 0 ? { tools } : {}),
    ...(toolChoice ? { tool_choice: toolChoice } : {}),
    ...(typeof body.user === 'string' ? { metadata: { user_id: body.user } } : {}),
  };
}
