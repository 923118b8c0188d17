/**
 * One catalogue of the errors clients can see: each code with its HTTP status, its OpenAI `type`
 * and a default message. The HTTP layer renders them in OpenAI's envelope
 * `{"error":{"message","type","code","param"}}` so that OpenAI SDKs raise the class users expect.
 */
export interface ErrorSpec {
  readonly status: number;
  readonly type: string;
  readonly message: string;
}

export const ERROR_CATALOGUE = {
  missing_api_key: {
    status: 401,
    type: 'invalid_request_error',
    message: "You didn't provide an API key. Send it in the Authorization header as 'Bearer <key>'.",
  },
  invalid_api_key: { status: 401, type: 'invalid_request_error', message: 'Invalid API key' },
  api_key_revoked: {
    status: 401,
    type: 'invalid_request_error',
    message: 'This API key has been revoked. Create a new key and use it instead.',
  },
  api_key_in_query: {
    status: 401,
    type: 'invalid_request_error',
    message:
      "API keys are not accepted in query parameters. Send the key in the Authorization header as 'Bearer <key>', and revoke the key you sent: URLs end up in logs.",
  },
  account_suspended: {
    status: 403,
    type: 'permission_error',
    message: 'This account is suspended. Contact the operator of this service.',
  },
  model_not_in_tier: {
    status: 403,
    type: 'permission_error',
    message:
      'This model is not available on your tier. Check your account status and subscription tier in the dashboard.',
  },
  ip_not_allowed: {
    status: 403,
    type: 'permission_error',
    message: "This API key cannot be used from this address: it is not in the key's IP allow-list.",
  },
  insufficient_quota: {
    status: 402,
    type: 'insufficient_quota',
    message: 'You exceeded your current quota: add credits to continue.',
  },
  rate_limit_exceeded: {
    status: 429,
    type: 'requests',
    message: 'Rate limit reached. Please try again later.',
  },
  invalid_request: { status: 400, type: 'invalid_request_error', message: 'The request is not valid.' },
  invalid_json: {
    status: 400,
    type: 'invalid_request_error',
    message: 'We could not parse the JSON body of your request. Send a valid JSON object.',
  },
  unsupported_media_type: {
    status: 415,
    type: 'invalid_request_error',
    message: "Unsupported Content-Type: send the body as 'application/json'.",
  },
  request_too_large: {
    status: 413,
    type: 'invalid_request_error',
    message: 'The request body is too large.',
  },
  request_headers_too_large: {
    status: 431,
    type: 'invalid_request_error',
    message: 'The request headers are too large.',
  },
  request_timeout: {
    status: 408,
    type: 'invalid_request_error',
    message: 'The request was not received in time.',
  },
  model_not_found: {
    status: 404,
    type: 'invalid_request_error',
    message: 'The model does not exist or you do not have access to it.',
  },
  unknown_url: { status: 404, type: 'invalid_request_error', message: 'Unknown request URL.' },
  upstream_rejected_request: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The upstream provider rejected the request.',
  },
  upstream_rate_limited: {
    status: 429,
    type: 'rate_limit_error',
    message: 'The upstream provider is rate limiting requests. Retry shortly.',
  },
  upstream_error: { status: 502, type: 'api_error', message: 'The upstream provider returned an error.' },
  upstream_unavailable: {
    status: 502,
    type: 'api_error',
    message: 'The upstream provider could not be reached.',
  },
  upstream_timeout: {
    status: 504,
    type: 'api_error',
    message: 'The upstream provider did not answer in time.',
  },
  service_unavailable: {
    status: 503,
    type: 'api_error',
    message: 'The service cannot reach its database right now; nothing was charged. Retry shortly.',
  },
  internal_error: {
    status: 500,
    type: 'api_error',
    message: 'The server had an error while processing your request.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** An expected failure, returned as a value by services and rendered by the HTTP layer. */
export interface Failure {
  readonly code: ErrorCode;
  readonly message?: string;
  readonly param?: string;
  /** OpenAI's `type` when it differs from the catalogue's: a 429 says `requests` or `tokens`, as OpenAI's does. */
  readonly type?: string;
  /** Extra fields of the error object beside OpenAI's four, e.g. which pool a 402 ran out of. */
  readonly details?: Readonly<Record<string, string | number>>;
}

export function failure(
  code: ErrorCode,
  message?: string,
  param?: string,
  details?: Failure['details'],
): Failure {
  return {
    code,
    ...(message === undefined ? {} : { message }),
    ...(param === undefined ? {} : { param }),
    ...(details === undefined ? {} : { details }),
  };
}
