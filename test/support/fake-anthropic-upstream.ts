import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cutPoint } from './fake-openai-upstream.js';

/**
 * A stand-in for Anthropic's Messages API that speaks its wire format: `x-api-key` and
 * `anthropic-version` headers, a `message` JSON answer, or the SSE sequence message_start,
 * content_block_start/delta/stop, message_delta (with output tokens) and message_stop.
 */
export interface FakeAnthropicOptions {
  readonly apiKey: string;
  /** Answer with a get_weather tool call instead of text. */
  toolUse?: boolean;
  /** The answer's text deltas; by default "Hello from the fake Claude." in six pieces. */
  text?: readonly string[];
  /**
   * Cut a streamed answer short: after this many text deltas, or after all of them but before
   * message_delta (`message_delta`) or message_stop (`message_stop`).
   */
  cutStreamAt?: number | 'message_delta' | 'message_stop';
  /** Send only the first this-many bytes of a JSON answer (a negative number: all but that many). */
  cutJsonAt?: number;
  /** How a cut answer ends: its body ends there (`end`, the default) or the connection is reset (`reset`). */
  cutBy?: 'end' | 'reset';
  /** Counts tokens as the model's tokenizer would, for the usage reported; by default about four bytes a token. */
  tokenizer?: (text: string) => number;
  /**
   * Report this many prompt tokens as written to and read from the prompt cache, as Anthropic
   * does: apart from `input_tokens`, which then counts only the rest of the prompt.
   */
  cache?: { readonly write: number; readonly read: number };
}

export interface FakeAnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export interface FakeAnthropic {
  readonly url: string;
  readonly received: { headers: IncomingMessage['headers']; body: Record<string, unknown> }[];
  readonly usages: FakeAnthropicUsage[];
  options: FakeAnthropicOptions;
  close(): Promise<void>;
}

const TEXT = ['Hello', ' from', ' the', ' fake', ' Claude', '.'];
const TOOL_INPUT_PARTS = ['{"location":', ' "Paris"}'];

function json(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

/** Ends a response where it stands: the body ends cleanly, or the connection is reset once the bytes so far are out. */
function cut(res: ServerResponse, by: FakeAnthropicOptions['cutBy']): void {
  if (by === 'reset') res.write('', () => res.socket?.resetAndDestroy());
  else res.end();
}

/** A JSON answer, whole or cut short after `at` bytes. */
function answer(res: ServerResponse, payload: unknown, options: FakeAnthropicOptions): void {
  const body = Buffer.from(JSON.stringify(payload));
  const at = options.cutJsonAt === undefined ? body.length : cutPoint(options.cutJsonAt, body.length);
  const reset = options.cutBy === 'reset' && at < body.length;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': reset ? body.length : at });
  if (reset) res.write(body.subarray(0, at), () => res.socket?.resetAndDestroy());
  else res.end(body.subarray(0, at));
}

/** The text a model reads of a Messages request: the system prompt and each message's text. */
function requestText(body: Record<string, unknown>): string {
  const parts: string[] = [];
  const collect = (content: unknown) => {
    if (typeof content === 'string') parts.push(content);
    else if (Array.isArray(content))
      for (const block of content as { text?: unknown }[])
        if (typeof block.text === 'string') parts.push(block.text);
  };
  collect(body.system);
  for (const message of (body.messages ?? []) as { content?: unknown }[]) collect(message.content);
  return parts.join('\n');
}

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      } catch (error) {
        reject(error);
      }
    });
  });
}

export async function startFakeAnthropic(initial: FakeAnthropicOptions): Promise<FakeAnthropic> {
  const received: FakeAnthropic['received'] = [];
  const usages: FakeAnthropic['usages'] = [];
  const state = { options: initial };
  let sequence = 0;

  const server: Server = createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/messages') {
      json(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'Not found' } });
      return;
    }
    const body = await readBody(req);
    received.push({ headers: req.headers, body });
    if (req.headers['x-api-key'] !== state.options.apiKey || !req.headers['anthropic-version']) {
      json(res, 401, {
        type: 'error',
        error: { type: 'authentication_error', message: 'invalid x-api-key' },
      });
      return;
    }
    const id = `msg_fake${++sequence}`;
    const model = String(body.model);
    const options = state.options;
    const tokenizer = options.tokenizer;
    const inputTokens = tokenizer
      ? // Anthropic's chat template adds a few tokens a message around the text.
        tokenizer(requestText(body)) + 4 * ((body.messages as unknown[] | undefined)?.length ?? 0)
      : JSON.stringify(body.messages).length / 4 + (typeof body.system === 'string' ? 10 : 0);
    const input = Math.ceil(inputTokens);
    const maxTokens = Number(body.max_tokens);
    const allText = options.text ?? TEXT;
    const text = allText.slice(0, Math.min(allText.length, maxTokens));
    const tool = options.toolUse;
    const output = tool ? 12 : tokenizer ? tokenizer(text.join('')) : text.length;
    const cache = {
      cache_creation_input_tokens: options.cache?.write ?? 0,
      cache_read_input_tokens: options.cache?.read ?? 0,
    };
    usages.push({ input_tokens: input, output_tokens: output, ...cache });

    if (body.stream !== true) {
      answer(
        res,
        {
          id,
          type: 'message',
          role: 'assistant',
          model,
          content: tool
            ? [{ type: 'tool_use', id: 'toolu_fake1', name: 'get_weather', input: { location: 'Paris' } }]
            : [{ type: 'text', text: text.join('') }],
          stop_reason: tool ? 'tool_use' : text.length < allText.length ? 'max_tokens' : 'end_turn',
          stop_sequence: null,
          usage: { input_tokens: input, output_tokens: output, ...cache },
        },
        options,
      );
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (type: string, payload: Record<string, unknown>) =>
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`);
    send('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        content: [],
        model,
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: input, output_tokens: 1, ...cache },
      },
    });
    send('ping', {});
    if (tool) {
      send('content_block_start', {
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_fake1', name: 'get_weather', input: {} },
      });
      for (const part of TOOL_INPUT_PARTS) {
        send('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: part } });
      }
    } else {
      send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      for (const [i, piece] of text.entries()) {
        if (options.cutStreamAt === i) return cut(res, options.cutBy);
        send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } });
      }
    }
    send('content_block_stop', { index: 0 });
    if (options.cutStreamAt === 'message_delta') return cut(res, options.cutBy);
    send('message_delta', {
      delta: { stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null },
      usage: { output_tokens: output },
    });
    if (options.cutStreamAt === 'message_stop') return cut(res, options.cutBy);
    send('message_stop', {});
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    received,
    usages,
    get options() {
      return state.options;
    },
    set options(next) {
      state.options = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
