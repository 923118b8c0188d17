import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyInstance } from 'fastify';
import { ERROR_CATALOGUE, type Failure, failure } from '../domain/errors.js';
import { envelope, sendFailure } from './error-envelope.js';
import { JSON_TOO_DEEP, MAX_JSON_DEPTH } from './json-body.js';
import { sendUnavailable, type UnavailableAnswers } from './unavailable-answer.js';

/** Fastify's own errors (body parsing, limits) in Tollgate's catalogue; never an HTML page or a stack trace. */
function failureForFrameworkError(error: FastifyError, bodyLimit: number): Failure | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return failure('request_too_large', `The request body is larger than the limit of ${bodyLimit} bytes.`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return failure('unsupported_media_type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return failure('invalid_json', 'The request body is empty; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return failure('invalid_json');
    case JSON_TOO_DEEP:
      return failure('invalid_json', `The JSON body nests more than ${MAX_JSON_DEPTH} levels deep.`);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return failure('invalid_request', 'The Content-Length header does not match the body.');
    default:
      break;
  }
  if (error instanceof SyntaxError && error.statusCode === 400) return failure('invalid_json');
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return failure('invalid_request', 'The request could not be read.');
  }
  return undefined;
}

/**
 * How much of an upload over the limit is read and thrown away before the 413 is sent. Answering
 * at once and closing leaves the rest of the upload unread, the kernel then resets the connection,
 * and the client sees EPIPE or ECONNRESET instead of the 413. Past these bounds the client is cut
 * off as before: the reading costs bandwidth, never memory.
 */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 10_000;

function drainUpload(raw: IncomingMessage): Promise<void> {
  if (raw.complete || raw.destroyed) return Promise.resolve();
  if (Number(raw.headers['content-length']) > DRAIN_MAX_BYTES) return Promise.resolve();
  return new Promise((resolve) => {
    let read = 0;
    const done = () => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', done);
      raw.off('close', done);
      raw.off('error', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      if (read > DRAIN_MAX_BYTES) done();
    };
    const timer = setTimeout(done, DRAIN_MAX_MS);
    raw.on('data', onData);
    raw.once('end', done);
    raw.once('close', done);
    raw.once('error', done);
    raw.resume();
  });
}

export function installErrorHandling(
  app: FastifyInstance,
  bodyLimit: number,
  unavailable?: UnavailableAnswers,
): void {
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const mapped = failureForFrameworkError(error, bodyLimit);
    if (mapped) {
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') await drainUpload(request.raw);
      return sendFailure(reply, mapped);
    }
    const refusal = unavailable?.refusal(error, request);
    if (refusal) return sendUnavailable(reply, refusal);
    request.log.error({ err: error }, 'unhandled error');
    return sendFailure(reply, internalError(request.id));
  });
}

/** The answer to an error nobody expected: the request id to quote, nothing of the error itself. */
export function internalError(requestId: string): Failure {
  return failure(
    'internal_error',
    `The server had an error while processing your request. Quote request id ${requestId} when reporting it.`,
  );
}

function failureForClientError(code: string | undefined): Failure {
  if (code === 'HPE_HEADER_OVERFLOW') return failure('request_headers_too_large');
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return failure('request_timeout');
  return failure('invalid_request', 'The request is not valid HTTP.');
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (headers too large, a NUL byte in a
 * header, a malformed request line): answered in the same envelope, with a request id, and the
 * connection closed, as Node and Fastify do.
 */
export function clientErrorHandler(
  newRequestId: () => string,
): (this: FastifyInstance, error: ConnectionError, socket: Socket) => void {
  return function answerClientError(this: FastifyInstance, error, socket) {
    // A reset connection has nobody left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const mapped = failureForClientError(error.code);
    const id = newRequestId();
    this.log.debug({ reqId: id, code: error.code }, 'unreadable request');
    if (socket.writable) {
      const status = ERROR_CATALOGUE[mapped.code].status;
      const body = JSON.stringify(envelope(mapped));
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${id}\r\nconnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  };
}

export function unknownUrl(method: string, url: string): Failure {
  const path = url.split('?', 1)[0] ?? url;
  return failure('unknown_url', `Unknown request URL: ${method} ${path}. Please check the URL for typos.`);
}
