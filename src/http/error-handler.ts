import type { FastifyError, FastifyInstance } from 'fastify';
import { type Failure, failure } from '../domain/errors.js';
import { sendFailure } from './error-envelope.js';

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

export function installErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const mapped = failureForFrameworkError(error, bodyLimit);
    if (mapped) return sendFailure(reply, mapped);
    request.log.error({ err: error }, 'unhandled error');
    return sendFailure(
      reply,
      failure(
        'internal_error',
        `The server had an error while processing your request. Quote request id ${request.id} when reporting it.`,
      ),
    );
  });
}

export function unknownUrl(method: string, url: string): Failure {
  const path = url.split('?', 1)[0] ?? url;
  return failure('unknown_url', `Unknown request URL: ${method} ${path}. Please check the URL for typos.`);
}
