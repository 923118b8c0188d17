import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cutPoint } from './fake-openai-upstream.js';
import { findSchemaProblem } from './gemini-schema-rules.js';

/**
 * A stand-in for the Gemini API's generateContent and streamGenerateContent (`alt=sse`): the model
 * in the path, `x-goog-api-key`, GenerateContentResponse bodies with usageMetadata on the last one,
 * and errors as Google sends them (`{"error":{"code","message","status","details"}}`).
 *
 * It behaves as Gemini 3 does where Tollgate can get it wrong:
 * - a schema key Gemini refuses is a 400 (see gemini-schema-rules.ts);
 * - an answer with a function call carries a `thoughtSignature` on the functionCall part, and a
 *   later request whose model turn brings that call back without its signature (or with another)
 *   is a 400;
 * - a prompt containing `[blocked]` is refused as Gemini refuses one: a 200 with
 *   `promptFeedback.blockReason` and no candidate, the prompt's tokens still counted.
 * With tools declared and no function result yet, it calls the first tool; after a function
 * result, it answers with text.
 */
export interface FakeGeminiOptions {
  /** The answer's pieces, one a streamed chunk; by default "Bonjour from fake Gemini." in five. */
  pieces?: readonly string[];
  /**
   * Cut a streamed answer short: after this many chunks, or after every piece but without the
   * finishReason (`finish`).
   */
  cutStreamAt?: number | 'finish';
  /** Send only the first this-many bytes of a JSON answer (a negative number: all but that many). */
  cutJsonAt?: number;
  /** How a cut answer ends: its body ends there (`end`, the default) or the connection is reset (`reset`). */
  cutBy?: 'end' | 'reset';
  /** Counts tokens as the model's tokenizer would, for the usage reported; by default about four bytes a token. */
  tokenizer?: (text: string) => number;
}

export interface FakeGemini {
  readonly url: string;
  readonly received: { path: string; headers: IncomingMessage['headers']; body: Record<string, unknown> }[];
  readonly usages: { promptTokenCount: number; candidatesTokenCount: number }[];
  /** Every thought signature the fake handed out. */
  readonly signatures: ReadonlySet<string>;
  options: FakeGeminiOptions;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

const PIECES = ['Bonjour', ' from', ' fake', ' Gemini', '.'];
export const GEMINI_TOOL_ANSWER = 'It is 18 degrees in Paris.';
export const GEMINI_BLOCK_MARKER = '[blocked]';

function googleError(res: ServerResponse, code: number, status: string, message: string, details?: Json[]) {
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } }));
}

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function partsOf(content: unknown): Json[] {
  return isRecord(content) && Array.isArray(content.parts) ? content.parts.filter(isRecord) : [];
}

/** A signature as Gemini's are: opaque bytes in standard base64, here with `+`, `/` and padding. */
function newSignature(): string {
  return Buffer.concat([Buffer.from([0xfb, 0xff, 0xbf]), randomBytes(47)]).toString('base64');
}

/** Gemini 3's rule: the first functionCall part of each model turn brings back its signature. */
function signatureProblem(contents: unknown[], issued: ReadonlySet<string>): string | undefined {
  for (const [index, content] of contents.entries()) {
    if (!isRecord(content) || content.role !== 'model') continue;
    const parts = partsOf(content);
    const position = parts.findIndex((part) => isRecord(part.functionCall));
    if (position === -1) continue;
    const first = parts[position]!;
    const name = (first.functionCall as Json).name;
    if (typeof first.thoughtSignature !== 'string') {
      return `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${String(name)}\` , position ${index + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`;
    }
    if (!issued.has(first.thoughtSignature)) return 'Corrupted thought signature.';
  }
  return undefined;
}

function textOf(contents: unknown[]): string {
  return contents
    .flatMap(partsOf)
    .map((part) => (typeof part.text === 'string' ? part.text : ''))
    .join('\n');
}

/** The text a model reads of a generateContent request: the system instruction and each turn's text parts. */
function requestText(body: Json): string {
  const turns = [body.systemInstruction, ...(Array.isArray(body.contents) ? body.contents : [])];
  return turns
    .flatMap(partsOf)
    .map((part) => part.text)
    .filter((text): text is string => typeof text === 'string')
    .join('\n');
}

/** Ends a response where it stands: the body ends cleanly, or the connection is reset once the bytes so far are out. */
function cut(res: ServerResponse, by: FakeGeminiOptions['cutBy']): void {
  if (by === 'reset') res.write('', () => res.socket?.resetAndDestroy());
  else res.end();
}

export async function startFakeGemini(apiKey: string, initial: FakeGeminiOptions = {}): Promise<FakeGemini> {
  const state = { options: initial };
  const received: FakeGemini['received'] = [];
  const usages: FakeGemini['usages'] = [];
  const signatures = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
      received.push({ path, headers: req.headers, body });
      const match = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent\?alt=sse)$/.exec(
        path,
      );
      if (!match) return googleError(res, 404, 'NOT_FOUND', 'Not found');
      if (req.headers['x-goog-api-key'] !== apiKey) {
        return googleError(res, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.');
      }
      const schemaProblem = findSchemaProblem(body);
      if (schemaProblem) {
        return googleError(res, 400, 'INVALID_ARGUMENT', schemaProblem.message, [
          {
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            fieldViolations: [{ field: schemaProblem.field, description: schemaProblem.message }],
          },
        ]);
      }
      const contents = Array.isArray(body.contents) ? body.contents : [];
      const signatureError = signatureProblem(contents, signatures);
      if (signatureError) return googleError(res, 400, 'INVALID_ARGUMENT', signatureError);

      const options = state.options;
      const promptTokenCount = options.tokenizer
        ? options.tokenizer(requestText(body))
        : Math.ceil(JSON.stringify(body.contents).length / 4);
      const modelVersion = match[1];
      const stream = match[2] !== 'generateContent';
      const send = (events: Json[]) => {
        if (!stream) {
          const answer = Buffer.from(JSON.stringify(events.at(-1)));
          const at =
            options.cutJsonAt === undefined ? answer.length : cutPoint(options.cutJsonAt, answer.length);
          const reset = options.cutBy === 'reset' && at < answer.length;
          res.writeHead(200, {
            'content-type': 'application/json; charset=UTF-8',
            'content-length': reset ? answer.length : at,
          });
          if (reset) res.write(answer.subarray(0, at), () => res.socket?.resetAndDestroy());
          else res.end(answer.subarray(0, at));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const [i, event] of events.entries()) {
          if (options.cutStreamAt === i) return cut(res, options.cutBy);
          res.write(`data: ${JSON.stringify(event)}\r\n\r\n`);
        }
        if (options.cutStreamAt === 'finish') return cut(res, options.cutBy);
        res.end();
      };

      if (textOf(contents).includes(GEMINI_BLOCK_MARKER)) {
        usages.push({ promptTokenCount, candidatesTokenCount: 0 });
        send([
          {
            promptFeedback: {
              blockReason: 'PROHIBITED_CONTENT',
              safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'HIGH' }],
            },
            usageMetadata: { promptTokenCount, totalTokenCount: promptTokenCount },
            modelVersion,
          },
        ]);
        return;
      }

      const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : [];
      const declarations = tools.flatMap((t) =>
        Array.isArray(t.functionDeclarations) ? t.functionDeclarations : [],
      );
      const lastParts = partsOf(contents.at(-1));
      const answered = lastParts.some((part) => isRecord(part.functionResponse));
      const firstTool = declarations.find(isRecord);
      if (firstTool && !answered) {
        const signature = newSignature();
        signatures.add(signature);
        const usage = { promptTokenCount, candidatesTokenCount: 7 };
        usages.push(usage);
        const call = {
          candidates: [
            {
              content: {
                role: 'model',
                parts: [
                  {
                    functionCall: { name: firstTool.name, args: { location: 'Paris' } },
                    thoughtSignature: signature,
                  },
                ],
              },
              finishReason: 'STOP',
              index: 0,
            },
          ],
          usageMetadata: { ...usage, totalTokenCount: promptTokenCount + 7 },
          modelVersion,
        };
        send([call]);
        return;
      }

      const pieces = answered ? [GEMINI_TOOL_ANSWER] : (options.pieces ?? PIECES);
      const candidatesTokenCount = options.tokenizer ? options.tokenizer(pieces.join('')) : pieces.length;
      const usage = { promptTokenCount, candidatesTokenCount };
      usages.push(usage);
      const usageMetadata = {
        ...usage,
        totalTokenCount: usage.promptTokenCount + usage.candidatesTokenCount,
      };
      if (!stream) {
        send([
          {
            candidates: [
              {
                content: { role: 'model', parts: [{ text: pieces.join('') }] },
                finishReason: 'STOP',
                index: 0,
              },
            ],
            usageMetadata,
            modelVersion,
            responseId: 'fake-response-1',
          },
        ]);
        return;
      }
      send(
        pieces.map((text, i) => {
          const last = i === pieces.length - 1 && options.cutStreamAt !== 'finish';
          return {
            candidates: [
              {
                content: { role: 'model', parts: [{ text }] },
                ...(last ? { finishReason: 'STOP' } : {}),
                index: 0,
              },
            ],
            usageMetadata: last ? usageMetadata : { promptTokenCount, totalTokenCount: promptTokenCount },
            modelVersion,
          };
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1beta`,
    received,
    usages,
    signatures,
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
