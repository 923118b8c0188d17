import type { LimitsReport } from '../../domain/account-limits.js';
import { goDuration } from '../../domain/go-duration.js';

/**
 * OpenAI's rate-limit headers, on every answer of an account with limits. A limit the tier leaves
 * out has no headers: there is no number to report for "unlimited".
 */
export function rateLimitHeaders(report: LimitsReport): [string, string][] {
  const headers: [string, string][] = [];
  for (const [suffix, window] of [
    ['requests', report.requests],
    ['tokens', report.tokens],
  ] as const) {
    if (!window) continue;
    headers.push(
      [`x-ratelimit-limit-${suffix}`, String(window.limit)],
      [`x-ratelimit-remaining-${suffix}`, String(window.remaining)],
      [`x-ratelimit-reset-${suffix}`, goDuration(window.resetMs)],
    );
  }
  return headers;
}
