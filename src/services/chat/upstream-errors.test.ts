import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../domain/errors.js';
import { redactNothing, secretRedactor } from '../../domain/redact-secrets.js';
import { UpstreamFailure } from '../../ports/upstream.js';
import { mapUpstreamFailure, mapUpstreamStatus } from './upstream-errors.js';

const mapStatus = (status: number, body: string) => mapUpstreamStatus(status, body, redactNothing);

const openAiError = (message: string) =>
  JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null } });

describe('mapUpstreamStatus', () => {
  it("passes on a 400's message, which describes the client's own request", () => {
    const failure = mapStatus(400, openAiError("'messages' must contain the word 'json'"));
    expect(failure).toEqual({
      code: 'upstream_rejected_request',
      message: "The upstream provider rejected the request: 'messages' must contain the word 'json'",
    });
    expect(ERROR_CATALOGUE[failure.code].status).toBe(400);
  });

  it.each([404, 413, 422])('passes on the message of a %i as a rejected request', (status) => {
    const failure = mapStatus(status, openAiError('context too long'));
    expect(failure.code).toBe('upstream_rejected_request');
    expect(failure.message).toContain('context too long');
  });

  it('reads the message from an error string or a top-level message too', () => {
    expect(mapStatus(400, JSON.stringify({ error: 'bad temperature' })).message).toContain('bad temperature');
    expect(mapStatus(422, JSON.stringify({ message: 'bad top_p', detail: [] })).message).toContain(
      'bad top_p',
    );
  });

  it('falls back to the default message when the body is not JSON or has no message', () => {
    for (const body of ['', '<html>Bad Request</html>', '{"error":{"code":1}}', 'null', '[]']) {
      const failure = mapStatus(400, body);
      expect(failure).toEqual({ code: 'upstream_rejected_request' });
    }
  });

  it.each([
    ['an sk- key', 'Invalid key sk-abcdefghijklmnop for this model', 'sk-abcdefghijklmnop'],
    ['a project key', 'Key sk-proj-AbCdEf0123456789_xyz was refused', 'sk-proj-AbCdEf0123456789_xyz'],
    ['an underscore key', 'token tok_1234567890abcdef rejected', 'tok_1234567890abcdef'],
    ['a Bearer header', 'header was Bearer abc.def.ghi', 'abc.def.ghi'],
  ])('redacts %s from a forwarded message', (_name, message, secret) => {
    const failure = mapStatus(400, openAiError(message));
    expect(failure.message).toContain('[redacted]');
    expect(failure.message).not.toContain(secret);
  });

  it('leaves ordinary words alone when redacting', () => {
    const failure = mapStatus(400, openAiError('max_tokens is too large: the task key is short'));
    expect(failure.message).toBe(
      'The upstream provider rejected the request: max_tokens is too large: the task key is short',
    );
  });

  it('redacts a Groq-style gsk_ key from a forwarded message', () => {
    const failure = mapStatus(400, openAiError('Invalid API Key gsk_abcdefghijklmnopqrstuvwxyz012345'));
    expect(failure.message).not.toContain('gsk_abcdefghijklmnopqrstuvwxyz012345');
  });

  it('redacts the exact value of a configured provider key, whatever its shape', () => {
    // A Mistral-style key: 32 letters and digits, no prefix a pattern could spot. Built at run time.
    const key = Array.from({ length: 32 }, (_, i) => 'aZ7q'[i % 4]).join('');
    const redact = secretRedactor([key]);
    const failure = mapUpstreamStatus(
      400,
      openAiError(`Invalid model for key ${key}; key was ${key}`),
      redact,
    );
    expect(failure.message).toBe(
      'The upstream provider rejected the request: Invalid model for key [redacted]; key was [redacted]',
    );
  });

  it('redacts a key that straddles the length limit before cutting, so no part of it is left', () => {
    const key = Array.from({ length: 32 }, (_, i) => 'Qm3x'[i % 4]).join('');
    const message = `${'x'.repeat(480)}${key}`;
    const failure = mapUpstreamStatus(400, openAiError(message), secretRedactor([key]));
    expect(failure.message).not.toContain(key.slice(0, 20));
  });

  it('cuts a very long upstream message to a bounded length', () => {
    const failure = mapStatus(400, openAiError('x'.repeat(10_000)));
    const forwarded = failure.message?.replace('The upstream provider rejected the request: ', '');
    expect(forwarded).toHaveLength(500);
  });

  it.each([401, 403])('never turns an upstream %i into an authentication error for the client', (status) => {
    const failure = mapStatus(status, openAiError('Incorrect API key provided: sk-live-abcdefghijkl'));
    expect(failure.code).toBe('upstream_error');
    expect(ERROR_CATALOGUE[failure.code].status).toBe(502);
    expect(failure.message).toBe(`The upstream provider returned an error (HTTP ${status}).`);
    expect(failure.message).not.toMatch(/api key/i);
  });

  it('maps a 429 to upstream_rate_limited without the upstream message', () => {
    const failure = mapStatus(429, openAiError('Rate limit reached for org-abc'));
    expect(failure).toEqual({ code: 'upstream_rate_limited' });
    expect(ERROR_CATALOGUE[failure.code].status).toBe(429);
  });

  it.each([504, 408])('maps a %i to upstream_timeout', (status) => {
    const failure = mapStatus(status, '');
    expect(failure).toEqual({ code: 'upstream_timeout' });
    expect(ERROR_CATALOGUE[failure.code].status).toBe(504);
  });

  it.each([500, 502, 503, 529])('maps a %i to upstream_error naming the status only', (status) => {
    const failure = mapStatus(status, openAiError('internal detail: db host 10.0.0.3'));
    expect(failure).toEqual({
      code: 'upstream_error',
      message: `The upstream provider returned an error (HTTP ${status}).`,
    });
  });
});

describe('mapUpstreamFailure', () => {
  it('maps a timeout to upstream_timeout and anything else to upstream_unavailable', () => {
    expect(mapUpstreamFailure(new UpstreamFailure('timeout', 'first byte'))).toEqual({
      code: 'upstream_timeout',
    });
    expect(mapUpstreamFailure(new UpstreamFailure('unavailable', 'ECONNREFUSED'))).toEqual({
      code: 'upstream_unavailable',
    });
  });
});
