import type { DatabaseConfig } from './config/database-url.js';
import { blockListAllowlists } from './net/ip-allowlist.js';
import type { ForgetfulCache } from './ports/change-feed.js';
import type { CredentialLookup, KeyUseSink } from './ports/keys.js';
import type { Ledger } from './ports/ledger.js';
import { DataVersionWatch } from './store/data-version-watch.js';
import { LedgerBatchWriter } from './store/ledger-batch.js';
import type { InstanceTimings } from './store/ledger-instance.js';
import type { OpenDatabase, OpenPostgres, OpenSqlite } from './store/open-database.js';
import { PostgresKeyActivity } from './store/postgres-key-activity.js';
import type { LeaseSettings } from './store/postgres-leases.js';
import { PostgresLedger } from './store/postgres-ledger.js';
import { acquireServerLock } from './store/server-lock.js';
import { refusedSettlementsPath, SettlementJournal } from './store/settlement-journal.js';
import { SqliteKeyActivity } from './store/sqlite-key-activity.js';
import { SqliteLedger } from './store/sqlite-ledger.js';

/** The ledger as the server holds it: the port, plus dropping what it remembers and closing. */
export type ServerLedger = Ledger & { forgetBalances(): void; close(): void | Promise<void> };

/** What the PostgreSQL ledger needs to know of its instance (ledger-instance.ts). */
export interface LedgerCluster {
  readonly instanceId: string;
  readonly timings: InstanceTimings;
  /** Credit leases (cluster.lease_micros, cluster.instances) and where they are counted. */
  readonly leases?: LeaseSettings;
  readonly metrics?: { leasesOpen(count: number): void; leaseRecalled(): void };
}

export interface ErrorLog {
  error(details: Record<string, unknown>, message: string): void;
}

/** The stores a request touches, on whichever database the configuration names. */
export interface RequestPathStores {
  readonly keyActivity: CredentialLookup &
    KeyUseSink &
    ForgetfulCache & {
      forget(): void;
      /** Told of each credential cache lookup, hit or miss (metrics count them). */
      onLookup: (hit: boolean) => void;
    };
  readonly ledger: ServerLedger;
  /** What the SQLite server found in its settlement journal at start-up (never on PostgreSQL). */
  readonly journal?: { readonly replayed: number; readonly refused: number; readonly refusedFile: string };
  /** Registers the instance with the shared ledger (PostgreSQL), before the first request. */
  start(): Promise<void>;
  /** Releases the server lock (SQLite); the ledger is closed by its owner. */
  release(): void;
}

/**
 * SQLite is served by one process: it takes the server lock, replays and keeps the settlement
 * journal, and learns of the CLI's commits through data_version. A ':memory:' database has no
 * file to lock or journal beside.
 */
function sqliteStores(
  path: string,
  database: OpenSqlite,
  newId: (prefix: string) => string,
  log: ErrorLog,
): RequestPathStores {
  const releaseLock = acquireServerLock(path);
  let opened: ReturnType<typeof SettlementJournal.open> | undefined;
  try {
    if (path !== ':memory:') opened = SettlementJournal.open(path, new LedgerBatchWriter(database.sqlite));
  } catch (error) {
    releaseLock();
    throw error;
  }
  const watch = new DataVersionWatch(database.sqlite);
  return {
    keyActivity: new SqliteKeyActivity(database.sqlite, watch, blockListAllowlists),
    ledger: new SqliteLedger(database.sqlite, watch, newId, opened?.journal, log),
    ...(opened
      ? {
          journal: {
            replayed: opened.replayed,
            refused: opened.refused,
            refusedFile: refusedSettlementsPath(path),
          },
        }
      : {}),
    start: async () => {},
    release: releaseLock,
  };
}

/**
 * How long a credential is believed on PostgreSQL, where the server always listens to a change feed
 * (Redis, or NOTIFY): changes arrive within a second, and while the feed is down it empties the
 * cache twice a second. This bound only catches what no feed could report.
 */
const FED_CREDENTIAL_CACHE_MS = 60_000;

/**
 * PostgreSQL is shared by every instance and the CLI: no server lock, and no settlement journal
 * (a request is answered after its COMMIT). Caches learn of other instances' changes through
 * `forget()` from the change feed, or expire on their own.
 */
function postgresStores(
  database: OpenPostgres,
  newId: (prefix: string) => string,
  log: ErrorLog,
  cluster: LedgerCluster,
): RequestPathStores {
  const ledger = postgresLedger(database, newId, log, cluster);
  return {
    keyActivity: new PostgresKeyActivity(database.pg, blockListAllowlists, {
      cacheMs: FED_CREDENTIAL_CACHE_MS,
    }),
    ledger,
    start: () => ledger.start(),
    release: () => {},
  };
}

/**
 * The PostgreSQL ledger. The server's registers its instance (start); the CLI's never does: it
 * credits, and places no hold.
 */
export function postgresLedger(
  database: OpenPostgres,
  newId: (prefix: string) => string,
  log: ErrorLog,
  cluster: LedgerCluster,
): PostgresLedger {
  return new PostgresLedger(database.pg, newId, {
    instanceId: cluster.instanceId,
    timings: cluster.timings,
    log,
    ...(cluster.leases ? { leases: cluster.leases } : {}),
    ...(cluster.metrics ? { metrics: cluster.metrics } : {}),
  });
}

/** Opens what the request path needs on `database`, which was opened from `config`. */
export function requestPathStores(
  config: DatabaseConfig,
  database: OpenDatabase,
  newId: (prefix: string) => string,
  log: ErrorLog,
  cluster: LedgerCluster,
): RequestPathStores {
  if (config.kind === 'sqlite' && database.kind === 'sqlite')
    return sqliteStores(config.path, database, newId, log);
  if (database.kind === 'postgres') return postgresStores(database, newId, log, cluster);
  throw new Error(`a ${database.kind} database opened for a ${config.kind} configuration`);
}
