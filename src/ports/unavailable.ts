/**
 * Why a request met a database it could not use: the instance fenced itself (its ledger has not
 * reached the database for half its timeout, so it admits nothing it could not account for), or
 * the database could not be reached at all. Either is infrastructure, not the client's fault: the
 * client is told to retry (503), and nothing was charged.
 */
export type UnavailableReason = 'instance_fenced' | 'database_unreachable';

/** Tells, from an error a store threw, whether the database was unavailable, and why. */
export type ClassifyUnavailable = (error: unknown) => UnavailableReason | undefined;
