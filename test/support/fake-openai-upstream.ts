import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for an OpenAI-compatible provider that speaks its real wire format: a
 * `chat.completion` JSON body, or SSE `chat.completion.chunk` events ending with a usage chunk
 * (when `stream_options.include_usage` is set) and `data: [DONE]`. It is the only fake in the
 * tests, because the provider is the only part that lives outside this machine.
 */
export interface FakeUpstreamOptions {
  /** Output tokens in each answer (one token per streamed chunk), before max_tokens cuts it. */
  replyTokens?: number;
  /** Turns a request into the answer's tokens; by default "tok0 tok1 …". */
  reply?: (body: ChatBody) => string[];
  /** Waits before sending response headers. */
  firstByteDelayMs?: number;
  /** Waits between streamed chunks. */
  chunkIntervalMs?: number;
  /** Answer every request with this status and an OpenAI error body. */
  failStatus?: number;
  /** With failStatus: fail only this many requests, then answer normally. */
  failTimes?: number;
  /** Headers sent with a failure, such as retry-after-ms. */
  failHeaders?: Record<string, string>;
  /** Answer 200 with a body that is not JSON. */
  malformed?: boolean;
  /** Leave usage out of answers, like a provider that does not report it. */
  omitUsage?: boolean;
  /**
   * Report this many completion tokens more than were sent, like a provider whose usage passes
   * what max_tokens allowed: the gateway's hold is then too small.
   */
  extraCompletionTokens?: number;
  /** Stop sending (but keep the connection open) after this many streamed tokens. */
  stallAfterTokens?: number;
  /**
   * The one output-limit field this server reads, like a server that knows only one of them; by
   * default it reads max_completion_tokens, then max_tokens.
   */
  limitField?: 'max_tokens' | 'max_completion_tokens';
  /**
   * Cut a streamed answer short: after this many content chunks, or after all of them but before
   * the finish chunk (`finish`), the usage chunk (`usage`) or `data: [DONE]` (`done`).
   */
  cutStreamAt?: number | 'finish' | 'usage' | 'done';
  /** Send only the first this-many bytes of a JSON answer (a negative number: all but that many). */
  cutJsonAt?: number;
  /**
   * How a cut answer ends: its body ends there as if complete (`end`, the default: the last chunk of
   * a chunked body, or a Content-Length that matches), or the connection is reset (`reset`).
   */
  cutBy?: 'end' | 'reset';
  /**
   * Counts tokens as the model's tokenizer would, for the usage reported: each message as its text
   * plus 3 tokens, plus 3 for the reply (OpenAI's chat format). By default one token a word or chunk.
   */
  tokenizer?: (text: string) => number;
  /** If set, requests without `Authorization: Bearer <this>` get OpenAI's 401. */
  expectedKey?: string;
  /**
   * Keep every request and usage for the tests' assertions (the default). The bench's upstream turns
   * it off: over millions of requests the lists would grow its heap without end, and its ever longer
   * collections would tax every arm sharing the machine.
   */
  record?: boolean;
  port?: number;
}

export interface ChatBody {
  model: string;
  messages: { role: string; content?: unknown }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  [key: string]: unknown;
}

export interface ReceivedRequest {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: ChatBody;
}

/** A usage report the fake sent, so tests can reconcile the ledger against it. */
export interface SentUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

export interface FakeUpstream {
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedRequest[];
  readonly usages: SentUsage[];
  /** The usage each chat answer reported, by the answer's id (`chatcmpl-…`), with the request it answered. */
  readonly reported: Map<string, { readonly usage: SentUsage; readonly body: ChatBody }>;
  /** Streamed tokens written to the socket, per request, including ones for requests cut short. */
  readonly streamedTokens: number[];
  /** prompt_tokens of each embeddings answer. */
  readonly embeddingUsages: number[];
  options: FakeUpstreamOptions;
  close(): Promise<void>;
}

/** A message's text, as a tokenizer reads it: a string, or the text parts of a content array. */
function messageText(message: ChatBody['messages'][number]): string {
  if (typeof message.content === 'string') return message.content;
  if (!Array.isArray(message.content)) return '';
  return message.content
    .map((part: { type?: string; text?: string }) => (part.type === 'text' ? (part.text ?? '') : ''))
    .join('');
}

function promptTokensOf(body: ChatBody, tokenizer: ((text: string) => number) | undefined): number {
  if (tokenizer) {
    const messages = body.messages ?? [];
    return messages.reduce((total, m) => total + 3 + tokenizer(m.role) + tokenizer(messageText(m)), 3);
  }
  // Deterministic and never above the gateway's byte-based ceiling: one token per word, plus 3 per message.
  let words = 0;
  for (const message of body.messages ?? []) {
    const text =
      typeof message.content === 'string' ? message.content : JSON.stringify(message.content ?? '');
    words += text.split(/\s+/).filter(Boolean).length;
  }
  return words + 3 * (body.messages?.length ?? 0);
}

function readJson(req: IncomingMessage): Promise<ChatBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatBody);
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function sendError(res: ServerResponse, status: number, message: string, code: string | null): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      error: { message, type: status === 429 ? 'requests' : 'invalid_request_error', param: null, code },
    }),
  );
}

/** Ends a response where it stands: the body ends cleanly, or the connection is reset once the bytes so far are out. */
function cut(res: ServerResponse, options: FakeUpstreamOptions): void {
  if (options.cutBy === 'reset') res.write('', () => res.socket?.resetAndDestroy());
  else res.end();
}

/** Where `cutJsonAt` cuts an answer of `length` bytes. */
export function cutPoint(cutJsonAt: number, length: number): number {
  return cutJsonAt < 0 ? length + cutJsonAt : cutJsonAt;
}

/** A JSON answer, whole or (cutJsonAt) cut short as the options say. */
function sendJsonAnswer(res: ServerResponse, answer: Buffer, options: FakeUpstreamOptions): void {
  const at = options.cutJsonAt === undefined ? undefined : cutPoint(options.cutJsonAt, answer.length);
  if (at === undefined || at >= answer.length) {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
    res.end(answer);
    return;
  }
  if (options.cutBy === 'reset') {
    // The headers promise the whole answer; the connection dies part-way through it.
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
    res.write(answer.subarray(0, at), () => res.socket?.resetAndDestroy());
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': at });
  res.end(answer.subarray(0, at));
}

export async function startFakeUpstream(initial: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const record = initial.record ?? true;
  const received: ReceivedRequest[] = [];
  const usages: SentUsage[] = [];
  const reported = new Map<string, { usage: SentUsage; body: ChatBody }>();
  const streamedTokens: number[] = [];
  const embeddingUsages: number[] = [];
  let sequence = 0;
  let failures = 0;
  const state: { options: FakeUpstreamOptions } = { options: initial };

  const server: Server = createServer(async (req, res) => {
    const options = state.options;
    if (req.method === 'GET' && req.url?.endsWith('/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          object: 'list',
          data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake' }],
        }),
      );
      return;
    }
    if (req.method === 'POST' && req.url?.endsWith('/embeddings')) {
      const body = (await readJson(req)) as unknown as {
        model: string;
        input: string | string[];
        encoding_format?: string;
      };
      if (record) received.push({ path: req.url, headers: req.headers, body: body as unknown as ChatBody });
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      const promptTokens = inputs.reduce(
        (total, text) => total + String(text).split(/\s+/).filter(Boolean).length,
        0,
      );
      if (record) embeddingUsages.push(promptTokens);
      const vector = (i: number) => Float32Array.from({ length: 8 }, (_, j) => (i + 1) * 0.01 * (j + 1));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          object: 'list',
          data: inputs.map((_, i) => ({
            object: 'embedding',
            index: i,
            embedding:
              body.encoding_format === 'base64'
                ? Buffer.from(vector(i).buffer).toString('base64')
                : Array.from(vector(i)),
          })),
          model: body.model,
          usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
        }),
      );
      return;
    }
    if (req.method === 'POST' && req.url?.endsWith('/v1/completions')) {
      const body = (await readJson(req)) as unknown as ChatBody & { prompt: string | string[] };
      if (record) received.push({ path: req.url, headers: req.headers, body });
      const limit = body.max_tokens ?? 16;
      const tokens = Array.from({ length: Math.min(options.replyTokens ?? 12, limit) }, (_, i) => `tok${i} `);
      const prompt = Array.isArray(body.prompt) ? body.prompt.join(' ') : String(body.prompt);
      const promptTokens = prompt.split(/\s+/).filter(Boolean).length;
      const usage = {
        prompt_tokens: promptTokens,
        completion_tokens: tokens.length,
        total_tokens: promptTokens + tokens.length,
      };
      if (record) usages.push(usage);
      const base = {
        id: `cmpl-fake${++sequence}`,
        object: 'text_completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
      };
      const finish = tokens.length < (options.replyTokens ?? 12) ? 'length' : 'stop';
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            ...base,
            choices: [{ text: tokens.join(''), index: 0, logprobs: null, finish_reason: finish }],
            usage,
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const token of tokens) {
        res.write(
          `data: ${JSON.stringify({ ...base, choices: [{ text: token, index: 0, logprobs: null, finish_reason: null }] })}\n\n`,
        );
      }
      res.write(
        `data: ${JSON.stringify({ ...base, choices: [{ text: '', index: 0, logprobs: null, finish_reason: finish }] })}\n\n`,
      );
      if (body.stream_options?.include_usage)
        res.write(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      sendError(res, 404, `Unknown request URL: ${req.method} ${req.url}`, 'unknown_url');
      return;
    }
    let body: ChatBody;
    try {
      body = await readJson(req);
    } catch {
      sendError(res, 400, 'We could not parse the JSON body of your request.', null);
      return;
    }
    if (record) received.push({ path: req.url, headers: req.headers, body });
    if (options.expectedKey && req.headers.authorization !== `Bearer ${options.expectedKey}`) {
      // Like OpenAI, echo the key that was sent: Tollgate must never pass this on.
      sendError(
        res,
        401,
        `Incorrect API key provided: ${req.headers.authorization?.slice(7)}.`,
        'invalid_api_key',
      );
      return;
    }
    if (options.firstByteDelayMs) await sleep(options.firstByteDelayMs);
    if (options.failStatus && (options.failTimes === undefined || failures < options.failTimes)) {
      failures++;
      for (const [name, value] of Object.entries(options.failHeaders ?? {})) res.setHeader(name, value);
      sendError(res, options.failStatus, `Simulated upstream failure ${options.failStatus}`, 'simulated');
      return;
    }
    if (options.malformed) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id": "chatcmpl-broken", "choices": [');
      return;
    }
    const limit =
      (options.limitField ? body[options.limitField] : (body.max_completion_tokens ?? body.max_tokens)) ??
      Number.POSITIVE_INFINITY;
    const all = options.reply
      ? options.reply(body)
      : Array.from({ length: options.replyTokens ?? 12 }, (_, i) => `tok${i} `);
    const tokens = all.slice(0, Math.min(all.length, limit));
    const finishReason = tokens.length < all.length ? 'length' : 'stop';
    const promptTokens = promptTokensOf(body, options.tokenizer);
    const completionTokens =
      (options.tokenizer ? options.tokenizer(tokens.join('')) : tokens.length) +
      (options.extraCompletionTokens ?? 0);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const id = `chatcmpl-fake${++sequence}`;
    const created = Math.floor(Date.now() / 1000);
    const base = {
      id,
      object: 'chat.completion.chunk',
      created,
      model: body.model,
      system_fingerprint: 'fp_fake',
    };

    if (!body.stream) {
      if (record && !options.omitUsage) {
        usages.push(usage);
        reported.set(id, { usage, body });
      }
      const answer = Buffer.from(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model: body.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: tokens.join(''), refusal: null },
              logprobs: null,
              finish_reason: finishReason,
            },
          ],
          ...(options.omitUsage ? {} : { usage }),
          system_fingerprint: 'fp_fake',
        }),
      );
      sendJsonAnswer(res, answer, options);
      return;
    }

    const includeUsage = body.stream_options?.include_usage === true && !options.omitUsage;
    const usageField = includeUsage ? { usage: null } : {};
    const slot = streamedTokens.push(0) - 1;
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    const send = (payload: unknown) => res.write(`data: ${JSON.stringify(payload)}\n\n`);
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    send({
      ...base,
      choices: [
        {
          index: 0,
          delta: { role: 'assistant', content: '', refusal: null },
          logprobs: null,
          finish_reason: null,
        },
      ],
      ...usageField,
    });
    const cutAt = options.cutStreamAt;
    for (const [i, token] of tokens.entries()) {
      if (closed) return;
      if (options.stallAfterTokens !== undefined && i >= options.stallAfterTokens) return;
      if (cutAt === i) return cut(res, options);
      if (options.chunkIntervalMs) await sleep(options.chunkIntervalMs);
      if (closed) return;
      send({
        ...base,
        choices: [{ index: 0, delta: { content: token }, logprobs: null, finish_reason: null }],
        ...usageField,
      });
      streamedTokens[slot] = (streamedTokens[slot] ?? 0) + 1;
    }
    if (cutAt === 'finish') return cut(res, options);
    send({
      ...base,
      choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason }],
      ...usageField,
    });
    if (cutAt === 'usage') return cut(res, options);
    if (includeUsage) {
      if (record) {
        usages.push(usage);
        reported.set(id, { usage, body });
      }
      send({ ...base, choices: [], usage });
    }
    if (cutAt === 'done') return cut(res, options);
    res.end('data: [DONE]\n\n');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(initial.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    received,
    usages,
    reported,
    streamedTokens,
    embeddingUsages,
    get options() {
      return state.options;
    },
    set options(next) {
      state.options = next;
      failures = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
