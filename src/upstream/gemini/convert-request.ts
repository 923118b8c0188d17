import { isRecord, type Json, parseArguments, stopList } from '../openai-shapes.js';
import { signatureOf } from '../tool-call-ids.js';
import { toGeminiJsonSchema } from './json-schema.js';

/**
 * OpenAI chat completion request → Gemini generateContent request. Pure.
 * Gemini calls the assistant "model", keeps the system prompt apart, carries images inline, and
 * answers tool results by function name, so tool_call ids are mapped back to the names that the
 * conversation's earlier tool calls gave them. A tool call's thought signature, carried in its id
 * (tool-call-ids.ts), goes back on its functionCall part, where Gemini 3 requires it.
 */

export interface GeminiRequest {
  contents: { role: 'user' | 'model'; parts: Json[] }[];
  systemInstruction?: { parts: { text: string }[] };
  generationConfig: Json;
  tools?: { functionDeclarations: Json[] }[];
  toolConfig?: { functionCallingConfig: Json };
}

function parts(content: unknown): Json[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) return [];
  const out: Json[] = [];
  for (const part of content) {
    if (!isRecord(part)) continue;
    if (part.type === 'text' && typeof part.text === 'string') out.push({ text: part.text });
    if (part.type === 'image_url') {
      const url = isRecord(part.image_url) ? part.image_url.url : part.image_url;
      const data = typeof url === 'string' ? /^data:([^;,]+);base64,(.*)$/s.exec(url) : null;
      if (data) out.push({ inlineData: { mimeType: data[1], data: data[2] } });
      else if (typeof url === 'string') out.push({ fileData: { fileUri: url } });
    }
  }
  return out;
}

function textOf(content: unknown): string {
  return parts(content)
    .map((part) => (typeof part.text === 'string' ? part.text : ''))
    .join('');
}

function toolResponse(content: unknown): Json {
  const text = textOf(content);
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed)) return parsed;
  } catch {
    // Not JSON: Gemini wants an object, so the text is wrapped.
  }
  return { content: text };
}

function push(contents: GeminiRequest['contents'], role: 'user' | 'model', newParts: Json[]): void {
  if (newParts.length === 0) return;
  const last = contents.at(-1);
  if (last?.role === role) last.parts.push(...newParts);
  else contents.push({ role, parts: newParts });
}

function toolConfig(choice: unknown): GeminiRequest['toolConfig'] {
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string') {
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
  }
  return undefined;
}

/** The signature a client sent the way Google's own OpenAI endpoint returns it. */
function googleSignature(call: Json): string | undefined {
  const google = isRecord(call.extra_content) ? call.extra_content.google : undefined;
  const signature = isRecord(google) ? google.thought_signature : undefined;
  return typeof signature === 'string' && signature !== '' ? signature : undefined;
}

/** OpenAI's `response_format` as Gemini's JSON mode, with the schema in the JSON Schema field. */
function responseFormat(format: unknown): Json {
  if (!isRecord(format)) return {};
  if (format.type === 'json_object') return { responseMimeType: 'application/json' };
  if (format.type !== 'json_schema') return {};
  const schema = isRecord(format.json_schema) ? format.json_schema.schema : undefined;
  return {
    responseMimeType: 'application/json',
    ...(isRecord(schema) ? { responseJsonSchema: toGeminiJsonSchema(schema) } : {}),
  };
}

export function convertRequest(body: Json): GeminiRequest {
  const system: string[] = [];
  const contents: GeminiRequest['contents'] = [];
  const nameOfCall = new Map<string, string>();
  for (const message of Array.isArray(body.messages) ? body.messages.filter(isRecord) : []) {
    if (message.role === 'system' || message.role === 'developer') {
      system.push(textOf(message.content));
    } else if (message.role === 'assistant') {
      const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isRecord) : [];
      const callParts = calls.map((call) => {
        const fn = isRecord(call.function) ? call.function : {};
        nameOfCall.set(String(call.id), String(fn.name));
        const signature = signatureOf(call.id) ?? googleSignature(call);
        return {
          functionCall: { name: fn.name, args: parseArguments(fn.arguments) },
          ...(signature ? { thoughtSignature: signature } : {}),
        };
      });
      push(contents, 'model', [...parts(message.content), ...callParts]);
    } else if (message.role === 'tool') {
      const name = nameOfCall.get(String(message.tool_call_id)) ?? String(message.tool_call_id);
      push(contents, 'user', [{ functionResponse: { name, response: toolResponse(message.content) } }]);
    } else {
      push(contents, 'user', parts(message.content));
    }
  }
  const stop = stopList(body.stop);
  const tools = Array.isArray(body.tools)
    ? body.tools.filter(isRecord).map((tool) => {
        const fn = isRecord(tool.function) ? tool.function : {};
        return {
          name: fn.name,
          ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
          ...(fn.parameters ? { parametersJsonSchema: toGeminiJsonSchema(fn.parameters) } : {}),
        };
      })
    : [];
  const config = toolConfig(body.tool_choice);
  return {
    contents,
    ...(system.length > 0 ? { systemInstruction: { parts: [{ text: system.join('\n\n') }] } } : {}),
    generationConfig: {
      maxOutputTokens: Number(body.max_completion_tokens ?? body.max_tokens),
      ...(typeof body.temperature === 'number' ? { temperature: body.temperature } : {}),
      ...(typeof body.top_p === 'number' ? { topP: body.top_p } : {}),
      ...(stop.length > 0 ? { stopSequences: stop } : {}),
      ...responseFormat(body.response_format),
    },
    ...(tools.length > 0 ? { tools: [{ functionDeclarations: tools }] } : {}),
    ...(config ? { toolConfig: config } : {}),
  };
}
