import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretRedactor } from '../../src/domain/redact-secrets.js';
import { loggerOptions } from '../../src/http/app.js';
import { bearer, type Harness, startHarness } from '../support/harness.js';

/**
 * A provider key never reaches a client or a log, whatever its shape. Mistral's keys are 32
 * letters and digits with no prefix, so only their exact value can be recognised. Built at run
 * time: no real-looking credential is committed.
 */
const PROVIDER_KEY = Array.from({ length: 32 }, (_, i) => 'hT4kQ9zW'[i % 8]).join('');

/** A provider that answers 400 and quotes the key it was sent, as some providers' errors do. */
function quotingProvider(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          object: 'error',
          message: `Invalid model for API key ${key}: try another model`,
          type: 'invalid_request_message_error',
          param: null,
          code: null,
        }),
      );
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let h: Harness;
let provider: Server;

beforeAll(async () => {
  provider = await quotingProvider();
  h = await startHarness({
    upstreamUrl: `http://127.0.0.1:${(provider.address() as AddressInfo).port}/v1`,
    providerYaml: '    api_key_env: MISTRAL_API_KEY',
    env: { MISTRAL_API_KEY: PROVIDER_KEY },
  });
});

afterAll(async () => {
  await h.close();
  provider.closeAllConnections();
  await new Promise((resolve) => provider.close(resolve));
});

describe('provider keys', () => {
  it("are cut from a provider's 400 before the client sees its message", async () => {
    const user = await h.seed();
    const response = await h.tollgate.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...bearer(user.key), 'content-type': 'application/json' },
      payload: { model: 'mistral', messages: [{ role: 'user', content: 'Hi' }] },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error: {
        code: 'upstream_rejected_request',
        message:
          'The upstream provider rejected the request: Invalid model for API key [redacted]: try another model',
      },
    });
    expect(response.body).not.toContain(PROVIDER_KEY);
    expect(h.logs.join('')).not.toContain(PROVIDER_KEY);
  });

  it('are cut from every log line, wherever they appear in it', () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const { log } = Fastify({ logger: loggerOptions('info', stream, secretRedactor([PROVIDER_KEY])) });
    log.warn(
      { err: new Error(`provider said: bad key ${PROVIDER_KEY}`), detail: PROVIDER_KEY },
      `key ${PROVIDER_KEY}`,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(PROVIDER_KEY);
    expect(lines[0]).toContain('[redacted]');
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'key [redacted]', detail: '[redacted]' });
  });
});
