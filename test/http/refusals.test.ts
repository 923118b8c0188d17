import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type Harness, type Seeded, startHarness } from '../support/harness.js';

/**
 * Every refusal reaches the client in OpenAI's envelope with a request id, including the ones
 * Node's HTTP parser makes before Fastify runs, over real sockets where the transport matters.
 */
let h: Harness;
let user: Seeded;
let port: number;

beforeAll(async () => {
  h = await startHarness();
  user = await h.seed();
  port = Number(new URL(await h.listen()).port);
});
afterAll(() => h.close());

interface Exchange {
  /** Everything the server sent, as text. */
  readonly response: string;
  /** The first error the socket raised (EPIPE, ECONNRESET…), if any. */
  readonly error: string | undefined;
}

/**
 * Sends `head`, then each body chunk once the previous one was taken. After the chunk at
 * `pauseAfter`, waits until the server answers or 500 ms pass, as a slow uplink would: a server
 * that answers and closes mid-upload has then done so before the rest is sent.
 */
function exchange(head: string | Buffer, body: readonly Buffer[] = [], pauseAfter = -1): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    let error: string | undefined;
    let answered: () => void = () => {};
    socket.on('data', (chunk: Buffer) => {
      response += chunk.toString('latin1');
      answered();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
    });
    socket.on('close', () => resolve({ response, error }));
    socket.write(head);
    const send = (i: number) => {
      if (i === body.length) {
        socket.end();
        return;
      }
      socket.write(body[i]!, (e) => {
        if (e) error ??= (e as NodeJS.ErrnoException).code ?? e.message;
        else if (i !== pauseAfter) send(i + 1);
        else {
          const timer = setTimeout(() => answered(), 500);
          answered = () => {
            answered = () => {};
            clearTimeout(timer);
            send(i + 1);
          };
          if (response !== '') answered();
        }
      });
    };
    send(0);
  });
}

function parse(response: string) {
  const [head = '', body = ''] = response.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => [
      line.slice(0, line.indexOf(':')).toLowerCase(),
      line.slice(line.indexOf(':') + 1).trim(),
    ]),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

function expectEnvelope(response: string, status: number, code: string) {
  const parsed = parse(response);
  expect(parsed.status, response.slice(0, 200)).toBe(status);
  expect(parsed.headers['content-type']).toContain('application/json');
  expect(parsed.headers['x-request-id']).toMatch(/^req_/);
  const { error } = JSON.parse(parsed.body) as { error: Record<string, unknown> };
  expect(error).toMatchObject({
    code,
    type: 'invalid_request_error',
    message: expect.any(String),
    param: null,
  });
  return error;
}

const chat = { model: 'mistral', messages: [{ role: 'user', content: 'Hi' }] };

describe('refusals in the envelope', () => {
  it('refuses a JSON body nested 10,000 deep with 400 invalid_json, not a server error', async () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    for (const payload of [
      JSON.stringify({ ...chat, metadata: 'x' }).replace('"x"', deep),
      JSON.stringify({ ...chat, messages: [{ role: 'user', content: 'Hi', extra: 'x' }] }).replace(
        '"x"',
        deep,
      ),
    ]) {
      const response = await h.tollgate.app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: { ...bearer(user.key), 'content-type': 'application/json' },
        payload,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'invalid_json' } });
      expect(response.json().error.message).toContain('nests more than');
    }
    expect(h.logs.join('')).not.toContain('unhandled error');
  });

  it('still accepts a body nested as deep as a real tool schema', async () => {
    let schema: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 20; i++) schema = { type: 'object', properties: { inner: schema } };
    const response = await h.tollgate.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...bearer(user.key), 'content-type': 'application/json' },
      payload: { ...chat, tools: [{ type: 'function', function: { name: 'deep', parameters: schema } }] },
    });
    expect(response.statusCode).toBe(200);
  });

  it('refuses a text/plain body with 415 unsupported_media_type', async () => {
    const response = await h.tollgate.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...bearer(user.key), 'content-type': 'text/plain' },
      payload: JSON.stringify(chat),
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });
  });

  it('answers headers too large with 431 in the envelope', async () => {
    const { response } = await exchange(
      `GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expectEnvelope(response, 431, 'request_headers_too_large');
  });

  it('answers a NUL byte in a header with 400 in the envelope', async () => {
    const { response } = await exchange(
      Buffer.from(`GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Odd: a\u0000b\r\n\r\n`, 'latin1'),
    );
    expectEnvelope(response, 400, 'invalid_request');
  });

  it('refuses two Authorization headers with 401 invalid_api_key, even when the first is valid', async () => {
    for (const [first, second] of [
      [`Bearer ${user.key}`, 'Bearer other'],
      ['Bearer other', `Bearer ${user.key}`],
      [`Bearer ${user.key}`, `Bearer ${user.key}`],
    ]) {
      const { response } = await exchange(
        `GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: ${first}\r\nauthorization: ${second}\r\nConnection: close\r\n\r\n`,
      );
      const parsed = parse(response);
      expect(parsed.status).toBe(401);
      expect(JSON.parse(parsed.body)).toMatchObject({ error: { code: 'invalid_api_key' } });
    }
  });
});

describe('a body over the limit', () => {
  // The harness allows 64 KiB; 2 MiB sent in 64 KiB writes, each after the previous one was taken.
  const chunks = Array.from({ length: 32 }, () => Buffer.alloc(64 * 1024, 0x20));
  const size = chunks.reduce((total, c) => total + c.length, 0);
  const head = (framing: string) =>
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${user.key}\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`;

  it('reaches a client that declared its length, without EPIPE or a reset mid-upload', async () => {
    const { response, error } = await exchange(head(`Content-Length: ${size}`), chunks, 3);
    expect(error).toBeUndefined();
    expectEnvelope(response, 413, 'request_too_large');
  });

  it('reaches a client that sends it in chunks, without EPIPE or a reset mid-upload', async () => {
    const framed = chunks.map((c) =>
      Buffer.concat([Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')]),
    );
    const { response, error } = await exchange(
      head('Transfer-Encoding: chunked'),
      [...framed, Buffer.from('0\r\n\r\n')],
      3,
    );
    expect(error).toBeUndefined();
    expectEnvelope(response, 413, 'request_too_large');
  });
});
