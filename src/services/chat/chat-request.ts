import { z } from 'zod';
import { type Failure, failure } from '../../domain/errors.js';

/**
 * The fields Tollgate acts on. Everything else the client sends is passed upstream untouched,
 * so new OpenAI parameters work without a Tollgate release.
 */
const tokenLimit = z.number().int().positive().nullable().optional();

export const chatRequestSchema = z.looseObject({
  model: z.string({ error: 'model is required and must be a string' }).min(1),
  messages: z
    .array(z.looseObject({ role: z.string() }), { error: 'messages must be an array of messages' })
    .min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: tokenLimit,
  max_completion_tokens: tokenLimit,
  // Billing holds for one choice; more choices would multiply the output beyond the hold.
  n: z.literal(1, { error: 'only n=1 is supported' }).nullable().optional(),
  // Servers that take best_of (vLLM) generate that many choices, and may bill all of them.
  best_of: z.literal(1, { error: 'only best_of=1 is supported' }).nullable().optional(),
  tools: z.array(z.unknown()).optional(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isTokenLimit = (value: unknown) =>
  value === undefined || value === null || (Number.isSafeInteger(value) && (value as number) > 0);

/**
 * The checks of chatRequestSchema, written out for the requests that pass them: zod's parse (and
 * its copy of the body and of every message) cost about 2.5 µs a request in the profile. It only
 * ever says yes to what the schema accepts, and the body then goes on as sent, which is what the
 * loose schema would have produced. Anything it is not sure of goes through zod, which also words
 * the errors.
 */
function plainlyValid(body: unknown): body is ChatRequest {
  if (!isPlainObject(body)) return false;
  const { model, messages, stream, stream_options: options, n, best_of: bestOf, tools } = body;
  if (typeof model !== 'string' || model.length === 0) return false;
  if (!Array.isArray(messages) || messages.length === 0) return false;
  for (const message of messages)
    if (!isPlainObject(message) || typeof message.role !== 'string') return false;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') return false;
  if (options !== undefined && options !== null) {
    if (!isPlainObject(options)) return false;
    if (options.include_usage !== undefined && typeof options.include_usage !== 'boolean') return false;
  }
  if (!isTokenLimit(body.max_tokens) || !isTokenLimit(body.max_completion_tokens)) return false;
  if (n !== undefined && n !== null && n !== 1) return false;
  if (bestOf !== undefined && bestOf !== null && bestOf !== 1) return false;
  return tools === undefined || Array.isArray(tools);
}

export function parseChatRequest(
  body: unknown,
): { ok: true; request: ChatRequest } | { ok: false; failure: Failure } {
  if (plainlyValid(body)) return { ok: true, request: body };
  const parsed = chatRequestSchema.safeParse(body);
  if (parsed.success) return { ok: true, request: parsed.data };
  const issue = parsed.error.issues[0];
  const param = issue?.path.map(String).join('.') || undefined;
  const message =
    body === null || typeof body !== 'object' || Array.isArray(body)
      ? 'The request body must be a JSON object.'
      : `Invalid value for ${param ?? 'the request'}: ${issue?.message ?? 'invalid'}`;
  return { ok: false, failure: failure('invalid_request', message, param) };
}

/** The client's output limit, and which field carried it (newer SDKs send max_completion_tokens). */
export function requestedLimit(request: ChatRequest): { value: number | undefined; param: string } {
  if (request.max_completion_tokens != null)
    return { value: request.max_completion_tokens, param: 'max_completion_tokens' };
  return { value: request.max_tokens ?? undefined, param: 'max_tokens' };
}

/**
 * The body sent upstream: the upstream's model name, a bounded output, and usage always reported.
 * The held limit goes in max_tokens, whichever field the client used; the provider's wire format
 * moves it to the one field that provider reads, and the client's other limit field is never sent.
 */
export function upstreamBody(
  request: ChatRequest,
  upstreamModel: string,
  maxTokens: number,
): Record<string, unknown> {
  // Built without `delete`, which would turn the object into a slow dictionary for JSON.stringify,
  // and by a loop rather than an object rest (a runtime copy that showed at 1.5 µs a request in the
  // profile). Keys keep the order the spread version gave them.
  const body: Record<string, unknown> = {};
  for (const key of Object.keys(request)) {
    if (key === 'max_tokens' || key === 'max_completion_tokens') continue;
    // Assigning __proto__ would set the prototype instead of copying a field; the parser refuses
    // such bodies, but the spread keeps this function right on its own.
    if (key === '__proto__') return spreadUpstreamBody(request, upstreamModel, maxTokens);
    body[key] = request[key];
  }
  body.model = upstreamModel;
  body.max_tokens = maxTokens;
  if (request.stream) {
    // Object.assign, not `{ ...options, include_usage }`: that form takes V8's slow runtime path.
    const options: Record<string, unknown> = Object.assign({}, request.stream_options);
    options.include_usage = true;
    body.stream_options = options;
  }
  return body;
}

function spreadUpstreamBody(
  request: ChatRequest,
  upstreamModel: string,
  maxTokens: number,
): Record<string, unknown> {
  const { max_tokens: _max, max_completion_tokens: _maxCompletion, ...rest } = request;
  return {
    ...rest,
    model: upstreamModel,
    max_tokens: maxTokens,
    ...(request.stream ? { stream_options: { ...(request.stream_options ?? {}), include_usage: true } } : {}),
  };
}
