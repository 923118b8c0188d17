import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './api-types';

export type { paths };

/**
 * The JSON body an operation of the generated document answers with `status`: features name their
 * types from the document this way, so a change on the server shows up here as a type error.
 */
export type ResponseBody<Operation, Status extends number = 200> = Operation extends {
  responses: { [S in Status]: { content: { 'application/json': infer Body } } };
}
  ? Body
  : never;

/** The JSON body an operation takes. */
export type RequestBody<Operation> = Operation extends {
  requestBody?: { content: { 'application/json': infer Body } };
}
  ? Body
  : never;

/** Every dashboard API error: `{ error: { code, message, field? } }` with its HTTP status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, code: string, message: string, field?: string, retryAfter?: number) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfterSeconds = retryAfter;
  }
}

// The synchronizer token of the current session. It lives in memory only (never in storage) and is
// replaced whenever the session changes: at sign-in, on every /session read, and at sign-out.
let csrfToken: string | undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (!SAFE_METHODS.has(request.method) && csrfToken) request.headers.set('x-csrf-token', csrfToken);
    return request;
  },
};

export const api = createClient<paths>({ credentials: 'same-origin' });
api.use(csrfMiddleware);

interface FetchOutcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

function errorBody(error: unknown): { code?: unknown; message?: unknown; field?: unknown } {
  if (typeof error === 'object' && error !== null && 'error' in error) {
    const inner = (error as { error: unknown }).error;
    if (typeof inner === 'object' && inner !== null) return inner;
  }
  return {};
}

/** The data of a successful call, or an ApiError carrying the server's code and message. */
export async function unwrap<T>(call: Promise<FetchOutcome<T>>): Promise<T> {
  let outcome: FetchOutcome<T>;
  try {
    outcome = await call;
  } catch {
    throw new ApiError(
      0,
      'network_error',
      'Could not reach the server. Check your connection and try again.',
    );
  }
  const { data, error, response } = outcome;
  if (response.ok) return data as T;
  const body = errorBody(error);
  const retryAfter = Number(response.headers.get('retry-after'));
  throw new ApiError(
    response.status,
    typeof body.code === 'string' ? body.code : `http_${response.status}`,
    typeof body.message === 'string' ? body.message : `The server answered ${response.status}.`,
    typeof body.field === 'string' ? body.field : undefined,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  );
}

export function isApiError(error: unknown, code?: string): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.code === code);
}

/** A sentence for the user: the server's own message, or a generic one for anything unexpected. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return 'Something went wrong. Try again.';
}
