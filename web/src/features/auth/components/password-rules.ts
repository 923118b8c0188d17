import { ApiError } from '../../../lib/api-client';

/** Shown beside every new-password field; the server has the last word and its message is shown. */
export const PASSWORD_HINT = 'At least 10 characters. Avoid common passwords.';
export const PASSWORD_MIN_LENGTH = 10;

/** The server's message when it names this field, for display beside the field itself. */
export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError && error.field === field ? error.message : undefined;
}

/** The server's refusal when it names no field of the form (shown above the submit button). */
export function formError(error: unknown, fields: readonly string[]): unknown {
  if (error instanceof ApiError && error.field && fields.includes(error.field)) return null;
  return error;
}

/** A one-time link (invite, reset, verification) that expired, was used, or never existed. */
export function isDeadLink(error: unknown): boolean {
  return error instanceof ApiError && (error.code === 'invalid_link' || error.code === 'not_found');
}
