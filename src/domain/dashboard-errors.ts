/**
 * The dashboard API's errors: `{ "error": { "code", "message", "field"? } }` with the HTTP status.
 * A separate catalogue from the API's, whose envelope is OpenAI's.
 */
export const DASHBOARD_ERRORS = {
  not_signed_in: { status: 401, message: 'Sign in to continue.' },
  invalid_credentials: { status: 401, message: 'The email address or password is incorrect.' },
  forbidden: { status: 403, message: 'Your role in this account does not allow this.' },
  csrf_invalid: {
    status: 403,
    message: 'The request did not carry a valid CSRF token for this session. Reload the page and try again.',
  },
  email_not_verified: {
    status: 403,
    message: 'Verify your email address first: follow the link sent to it.',
  },
  account_suspended: {
    status: 403,
    message: 'This account is suspended. Contact the operator of this service.',
  },
  not_found: { status: 404, message: 'Not found.' },
  invalid_link: { status: 404, message: 'This link has expired or was already used. Ask for a new one.' },
  too_many_attempts: { status: 429, message: 'Too many attempts. Wait a little and try again.' },
  invalid_request: { status: 400, message: 'The request is not valid.' },
  service_unavailable: {
    status: 503,
    message: 'The service cannot reach its database right now. Try again in a moment.',
  },
  internal_error: { status: 500, message: 'The server had an error while processing your request.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type DashboardErrorCode = keyof typeof DASHBOARD_ERRORS;

export interface DashboardFailure {
  readonly code: DashboardErrorCode;
  readonly message?: string;
  /** The request field at fault, for invalid_request. */
  readonly field?: string;
  /** Seconds to wait, for too_many_attempts and service_unavailable. */
  readonly retryAfterSeconds?: number;
}

export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: DashboardFailure };

export function fail(
  code: DashboardErrorCode,
  message?: string,
  field?: string,
): { ok: false; failure: DashboardFailure } {
  return {
    ok: false,
    failure: {
      code,
      ...(message === undefined ? {} : { message }),
      ...(field === undefined ? {} : { field }),
    },
  };
}

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}
