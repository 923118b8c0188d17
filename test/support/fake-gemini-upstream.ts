import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the Gemini API's generateContent and streamGenerateContent (`alt=sse`): the model
 * in the path, `x-goog-api-key`, GenerateContentResponse bodies with usageMetadata on the last one.
 */
export interface FakeGemini {
  readonly url: string;
  readonly received: { path: string; headers: IncomingMessage['headers']; body: Record<string, unknown> }[];
  readonly usages: { promptTokenCount: number; candidatesTokenCount: number }[];
  close(): Promise<void>;
}

const PIECES = ['Bonjour', ' from', ' fake', ' Gemini', '.'];

export async function startFakeGemini(apiKey: string): Promise<FakeGemini> {
  const received: FakeGemini['received'] = [];
  const usages: FakeGemini['usages'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      received.push({ path, headers: req.headers, body });
      const match = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent\?alt=sse)$/.exec(
        path,
      );
      if (!match) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 404, message: 'Not found', status: 'NOT_FOUND' } }));
        return;
      }
      if (req.headers['x-goog-api-key'] !== apiKey) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { code: 400, message: 'API key not valid.', status: 'INVALID_ARGUMENT' } }),
        );
        return;
      }
      const usage = {
        promptTokenCount: Math.ceil(JSON.stringify(body.contents).length / 4),
        candidatesTokenCount: PIECES.length,
      };
      usages.push(usage);
      const usageMetadata = {
        ...usage,
        totalTokenCount: usage.promptTokenCount + usage.candidatesTokenCount,
      };
      const modelVersion = match[1];
      if (match[2] === 'generateContent') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            candidates: [
              {
                content: { role: 'model', parts: [{ text: PIECES.join('') }] },
                finishReason: 'STOP',
                index: 0,
              },
            ],
            usageMetadata,
            modelVersion,
            responseId: 'fake-response-1',
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      PIECES.forEach((text, i) => {
        const last = i === PIECES.length - 1;
        const event = {
          candidates: [
            {
              content: { role: 'model', parts: [{ text }] },
              ...(last ? { finishReason: 'STOP' } : {}),
              index: 0,
            },
          ],
          usageMetadata: last
            ? usageMetadata
            : { promptTokenCount: usage.promptTokenCount, totalTokenCount: usage.promptTokenCount },
          modelVersion,
        };
        res.write(`data: ${JSON.stringify(event)}\r\n\r\n`);
      });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1beta`,
    received,
    usages,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
