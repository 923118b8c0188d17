import type { UnavailableReason } from '../ports/unavailable.js';
import { CommitInDoubtError, LedgerUnavailableError } from './postgres-ledger.js';

/** Node's socket errors: the server refused, reset or never answered the connection. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * SQLSTATEs of a server that is shutting down, crashed, still starting, or out of connections;
 * every code of class 08 (connection exception) counts too.
 */
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

/** pg's own errors about a lost or impossible connection carry no code: they are told by their text. */
const PG_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];

function unreachable(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith('08')))
    return true;
  return PG_MESSAGES.some((message) => error.message.startsWith(message));
}

/**
 * Whether `error` means the database could not be used, rather than a bug or a refused statement.
 * Follows `cause` a few levels, since a driver may wrap the socket's error.
 */
export function databaseUnavailable(error: unknown): UnavailableReason | undefined {
  let current = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (current instanceof LedgerUnavailableError) return 'instance_fenced';
    if (unreachable(current)) return 'database_unreachable';
    current = current.cause;
  }
  return undefined;
}

/**
 * Whether `error` is a COMMIT the database never answered because it could not be reached: its
 * transaction may have committed. (A COMMIT the server refused was rolled back: not in doubt.)
 */
export function commitInDoubt(error: unknown): boolean {
  return error instanceof CommitInDoubtError && databaseUnavailable(error.cause) === 'database_unreachable';
}
