import { type Failure, failure } from '../../domain/errors.js';
import type { Redact } from '../../domain/redact-secrets.js';
import type { UpstreamFailure } from '../../ports/upstream.js';

const MAX_FORWARDED_MESSAGE = 500;
// Anything shaped like a credential is cut from a provider message before a client sees it.
// No word boundary before the prefix, so that gsk_… (Groq) and similar vendor prefixes are caught too.
const CREDENTIAL_LIKE =
  /[A-Za-z]*(sk|pk|rk|key|tok)[-_][A-Za-z0-9_-]{8,}|AIza[0-9A-Za-z_-]{20,}|Bearer\s+\S+/gi;

function upstreamMessage(body: string, redact: Redact): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    const message =
      typeof parsed.error === 'object' && typeof parsed.error?.message === 'string'
        ? parsed.error.message
        : typeof parsed.error === 'string'
          ? parsed.error
          : typeof parsed.message === 'string'
            ? parsed.message
            : undefined;
    // Redacted before it is cut, so that no key is left in part at the cut.
    return message === undefined
      ? undefined
      : redact(message).replace(CREDENTIAL_LIKE, '[redacted]').slice(0, MAX_FORWARDED_MESSAGE);
  } catch {
    return undefined;
  }
}

/**
 * Maps an upstream's error status to what the client sees. Only a 400/422's message is passed on,
 * because it describes the client's own request; a 401 or 403 means the operator's provider key is
 * wrong, which is not the client's business and must never read like a problem with their key.
 * `redact` removes the configured provider keys from the message, whatever their shape.
 */
export function mapUpstreamStatus(status: number, body: string, redact: Redact): Failure {
  if (status === 400 || status === 404 || status === 413 || status === 422) {
    const message = upstreamMessage(body, redact);
    return failure(
      'upstream_rejected_request',
      message ? `The upstream provider rejected the request: ${message}` : undefined,
    );
  }
  if (status === 429) return failure('upstream_rate_limited');
  if (status === 408 || status === 504) return failure('upstream_timeout');
  return failure('upstream_error', `The upstream provider returned an error (HTTP ${status}).`);
}

export function mapUpstreamFailure(error: UpstreamFailure): Failure {
  return error.kind === 'timeout' ? failure('upstream_timeout') : failure('upstream_unavailable');
}
