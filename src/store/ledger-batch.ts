import type { Database as BetterSqlite, Statement, Transaction } from 'better-sqlite3';
import type { Micros } from '../domain/money.js';
import { BatchedInsert } from './batched-insert.js';
import { type HoldEntriesRow, holdEntriesInsert } from './hold-entries-insert.js';

/** An auto top-up request as inserted: id, account, amount, balance, status, created at. */
export type TopupRow = [string, string, Micros, Micros, 'pending', number];

/**
 * What one group commit writes, as plain values: it is also what the settlement journal stores
 * (settlement-journal.ts), so it must survive JSON unchanged.
 */
export interface LedgerBatch {
  /** Credits, one row an entry (ENTRY_COLUMNS). */
  readonly entries: readonly (readonly unknown[])[];
  /** Closed holds, one row a pool, each expanded into its entries by the database. */
  readonly holds: readonly HoldEntriesRow[];
  /** Usage records (USAGE_COLUMNS). */
  readonly usage: readonly (readonly unknown[])[];
  readonly topups: readonly TopupRow[];
  /** Each account's change of its committed prepaid balance, as [account id, micros]. */
  readonly deltas: readonly (readonly [string, Micros])[];
}

/** A batch as the settlement journal holds it: numbered in the order it was written. */
export interface JournaledBatch {
  readonly seq: number;
  readonly batch: LedgerBatch;
}

const ENTRY_COLUMNS = [
  'id',
  'account_id',
  'kind',
  'pool',
  'amount_micros',
  'hold_id',
  'key_id',
  'note',
  'created_at',
  'period_at',
];
const USAGE_COLUMNS = [
  'request_id',
  'account_id',
  'key_id',
  'base_path',
  'model',
  'provider_id',
  'upstream_model',
  'prompt_tokens',
  'completion_tokens',
  'usage_source',
  'cost_micros',
  'pools',
  'status',
  'latency_ms',
  'client_ip',
  'user_agent',
  'created_at',
  'cache_read_tokens',
  'cache_write_tokens',
  'over_hold',
  'outcome',
];

/**
 * True when the database refused a row (a constraint, a value it cannot bind) rather than failed
 * to write at all (a full disk, an I/O error): the other rows of the same commit can still be written.
 */
export function isRowRefusal(error: unknown): boolean {
  if (error instanceof TypeError || error instanceof RangeError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    (code.startsWith('SQLITE_CONSTRAINT') ||
      code === 'SQLITE_MISMATCH' ||
      code === 'SQLITE_TOOBIG' ||
      code === 'SQLITE_RANGE')
  );
}

/** Told of each batch left out because the database refused one of its rows. */
export type OnRefused = (index: number, error: unknown) => void;

/**
 * Defaults of the usage columns added since the journal's first version, in column order. Rows of
 * a journal written before them (a server that crashed, then was upgraded before its restart
 * replayed the journal) get these.
 */
const ADDED_USAGE_DEFAULTS: readonly unknown[] = [0, 0, 0, 'completed'];
const FIRST_USAGE_WIDTH = USAGE_COLUMNS.length - ADDED_USAGE_DEFAULTS.length;

function completeUsageRows(rows: readonly (readonly unknown[])[]): readonly (readonly unknown[])[] {
  if (rows.every((row) => row.length === USAGE_COLUMNS.length)) return rows;
  return rows.map((row) =>
    row.length >= USAGE_COLUMNS.length
      ? row
      : [...row, ...ADDED_USAGE_DEFAULTS.slice(row.length - FIRST_USAGE_WIDTH)],
  );
}

/**
 * Writes ledger batches in one transaction each call: multi-row INSERTs, one UPDATE per account.
 * When the batches came through the settlement journal, the same transaction records the last
 * journal sequence number they cover, so that a replay after a crash skips them.
 */
export class LedgerBatchWriter {
  private readonly entryInsert: BatchedInsert;
  private readonly holdInsert: BatchedInsert;
  private readonly usageInsert: BatchedInsert;
  private readonly topupInsert: Statement<TopupRow>;
  private readonly addToAccount: Statement<[Micros, string]>;
  private readonly replay: Transaction<
    (
      journaled: readonly JournaledBatch[],
      onRefused: (batch: JournaledBatch, error: unknown) => void,
    ) => number
  >;
  /** One batch in a savepoint of its own, inside the transaction that calls it. */
  private readonly writeAlone: Transaction<(batch: LedgerBatch) => void>;
  private readonly eachAlone: Transaction<
    (batches: readonly LedgerBatch[], journalSeq: number | undefined, onRefused: OnRefused) => void
  >;
  private readonly selectApplied: Statement<[]>;
  private readonly markApplied: Statement<[number]>;
  /** Built once: wrapping a new function per commit cost about 1 µs a request (--cpu-prof). */
  private readonly transaction: Transaction<
    (batches: readonly LedgerBatch[], journalSeq: number | undefined) => void
  >;

  constructor(db: BetterSqlite) {
    this.entryInsert = BatchedInsert.into(db, 'ledger_entries', ENTRY_COLUMNS);
    this.holdInsert = holdEntriesInsert(db);
    this.usageInsert = BatchedInsert.into(db, 'usage_records', USAGE_COLUMNS);
    this.topupInsert = db.prepare(
      `INSERT INTO topup_requests (id, account_id, amount_micros, balance_micros, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.addToAccount = db.prepare(
      'UPDATE accounts SET available_micros = available_micros + ? WHERE id = ?',
    );
    this.selectApplied = db.prepare('SELECT applied_seq FROM settlement_journal WHERE id = 1').pluck();
    this.markApplied = db.prepare('UPDATE settlement_journal SET applied_seq = ? WHERE id = 1');
    this.transaction = db.transaction((batches, journalSeq) => {
      for (const batch of batches) this.writeRows(batch);
      if (journalSeq !== undefined) this.markApplied.run(journalSeq);
    });
    this.writeAlone = db.transaction((batch) => this.writeRows(batch));
    this.eachAlone = db.transaction((batches, journalSeq, onRefused) => {
      batches.forEach((batch, index) => {
        this.tryAlone(batch, (error) => onRefused(index, error));
      });
      if (journalSeq !== undefined) this.markApplied.run(journalSeq);
    });
    this.replay = db.transaction((journaled, onRefused) => {
      const applied = this.appliedSeq();
      let count = 0;
      for (const entry of journaled) {
        if (entry.seq <= applied) continue;
        if (this.tryAlone(entry.batch, (error) => onRefused(entry, error))) count++;
        this.markApplied.run(entry.seq);
      }
      return count;
    });
  }

  /** Writes and commits `batches` (IMMEDIATE: the write lock is taken at once, not on first write). */
  commit(batches: readonly LedgerBatch[], journalSeq?: number): void {
    this.transaction.immediate(batches, journalSeq);
  }

  /**
   * Commits `batches` as `commit` does, but each in a savepoint of its own, so that a batch with a
   * row the database refuses is left out (and `onRefused` told, inside the transaction) while the
   * others are written. An error other than a refused row fails the whole commit, as in `commit`.
   */
  commitEach(batches: readonly LedgerBatch[], journalSeq: number | undefined, onRefused: OnRefused): void {
    this.eachAlone.immediate(batches, journalSeq, onRefused);
  }

  /**
   * Commits those of the journaled batches that come after `appliedSeq()`, which is read inside the
   * same transaction, each in a savepoint of its own: a batch with a row the database refuses is
   * left out, `onRefused` told (inside the transaction, so before anything is committed), and
   * counted as applied, so that it cannot block the batches after it. Returns how many were applied.
   */
  commitUnapplied(
    journaled: readonly JournaledBatch[],
    onRefused: (batch: JournaledBatch, error: unknown) => void,
  ): number {
    return this.replay.immediate(journaled, onRefused);
  }

  /** The last journal sequence number committed. */
  appliedSeq(): number {
    return Number(this.selectApplied.get() ?? 0);
  }

  /** Writes the batch in a savepoint; false, with the savepoint rolled back, if a row was refused. */
  private tryAlone(batch: LedgerBatch, onRefused: (error: unknown) => void): boolean {
    try {
      this.writeAlone(batch);
      return true;
    } catch (error) {
      if (!isRowRefusal(error)) throw error;
      onRefused(error);
      return false;
    }
  }

  private writeRows(batch: LedgerBatch): void {
    this.entryInsert.run(batch.entries);
    this.holdInsert.run(batch.holds);
    this.usageInsert.run(completeUsageRows(batch.usage));
    for (const row of batch.topups) this.topupInsert.run(...row);
    for (const [accountId, delta] of batch.deltas) if (delta !== 0) this.addToAccount.run(delta, accountId);
  }
}
