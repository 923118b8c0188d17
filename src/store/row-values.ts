/**
 * Values for the descriptive columns of ledger and usage rows (TEXT and INTEGER, NOT NULL), made
 * valid whatever a caller passed. A group commit writes many requests in one transaction, and
 * the settlement journal keeps them as JSON until then, so one value SQLite refuses (a NULL, an
 * object) or JSON changes (NaN and Infinity become null) would otherwise fail every request
 * sharing its commit. Money is not made valid here: amounts are checked where they are decided,
 * and refused before they are queued (sqlite-ledger.ts).
 */

/** A string as it is; anything else as its text, and a missing value as the empty string. */
export function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  try {
    return String(value);
  } catch {
    return '';
  }
}

/** A safe integer as it is; other numbers rounded into the safe range; anything else 0. */
export function integer(value: unknown): number {
  if (Number.isSafeInteger(value)) return value as number;
  if (typeof value !== 'number' || Number.isNaN(value)) return 0;
  return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Math.round(value)));
}

/** An amount of micro-USD a ledger row may carry: a safe integer, never negative. */
export function isAmount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
