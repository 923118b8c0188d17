import {
  appendFileSync,
  closeSync,
  ftruncateSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { JournaledBatch, LedgerBatch, LedgerBatchWriter } from './ledger-batch.js';

/** Past this size the file starts afresh, at a moment when everything in it is committed. */
const RESTART_AT_BYTES = 1 << 20;

export class SettlementJournalError extends Error {
  override readonly name = 'SettlementJournalError';
}

export function settlementJournalPath(databasePath: string): string {
  return `${databasePath}.settlements`;
}

/** Where journaled batches the database refused are kept for the operator, one JSON line each. */
export function refusedSettlementsPath(databasePath: string): string {
  return `${settlementJournalPath(databasePath)}.refused`;
}

/**
 * Keeps a batch the database refused, with the reason, before the commit that skips it: a batch
 * that can never be written must not block the ones after it, and must not vanish either. Throws
 * if the line cannot be written, failing that commit, so the batch stays in the journal. A crash
 * between this line and the commit sets the batch aside again at the replay: its `seq` tells.
 */
function setAside(databasePath: string, { seq, batch }: JournaledBatch, error: unknown): void {
  const reason = error instanceof Error ? error.message : String(error);
  appendFileSync(refusedSettlementsPath(databasePath), `${JSON.stringify({ seq, reason, batch })}\n`, {
    mode: 0o600,
  });
}

/**
 * Lets a small group of settlements be answered before their SQLite commit, without ever answering
 * a request the ledger could lose.
 *
 * Why: with one client, every request waits for a commit of its own, about 95 µs timed inside the
 * server (eight file locks, ten page writes), which was most of what Tollgate added over a bare
 * pass-through. Appending the group here (a line a request) is one `write` of about 500 bytes a request; the commit
 * follows on the next turn of the event loop, after the answer has gone out. Under load a commit
 * is shared by tens of requests, and there the ledger commits directly (sqlite-ledger.ts).
 *
 * Durability is the same as the database's: SQLite runs with synchronous=NORMAL, so a commit is
 * safe from a crash of the process but not of the machine, and a line written here is likewise in
 * the operating system's hands once `write` returns. Each commit of journaled batches records the
 * last sequence number it covers (ledger-batch.ts), so the replay at start-up applies each batch
 * exactly once.
 *
 * Rows are valid by construction (row-values.ts), so the database should never refuse a journaled
 * batch; if it does all the same, the batch is set aside in refusedSettlementsPath, with the reason,
 * in the transaction that commits the batches after it: one bad batch never blocks the others, at
 * run time or at the replay, and never vanishes.
 *
 * Only the server, which holds the server lock, writes or replays the journal: the CLI never reads
 * it, so after a crash the CLI sees the last few journaled requests once the server has started again.
 */
export class SettlementJournal {
  private size = 0;
  private closed = false;

  private constructor(
    private readonly databasePath: string,
    private readonly file: string,
    private readonly fd: number,
    private lastSeq: number,
  ) {}

  /**
   * Replays what a server that died left behind, then opens the journal, empty, for appending.
   * Returns the journal, how many batches were replayed, and how many the database refused (set
   * aside in refusedSettlementsPath, so that they do not keep the server from starting).
   */
  static open(
    databasePath: string,
    writer: LedgerBatchWriter,
  ): { journal: SettlementJournal; replayed: number; refused: number } {
    const file = settlementJournalPath(databasePath);
    let refused = 0;
    const replayed = replay(file, writer, (entry, error) => {
      setAside(databasePath, entry, error);
      refused++;
    });
    // O_APPEND: after a truncation the next line goes to the new end, never past it.
    const fd = openSync(file, 'a', 0o600);
    ftruncateSync(fd, 0);
    return { journal: new SettlementJournal(databasePath, file, fd, writer.appliedSeq()), replayed, refused };
  }

  /**
   * Appends each batch as a line of its own, with one write, and returns the first one's sequence
   * number (the others follow it). Once this returns, a crash of the process cannot lose them.
   * Throws if the lines could not be written whole (nothing of them is left behind then).
   */
  append(batches: readonly LedgerBatch[]): number {
    const first = this.lastSeq + 1;
    const line = Buffer.from(
      batches.map((batch, i) => `${JSON.stringify({ seq: first + i, batch })}\n`).join(''),
    );
    let written = 0;
    try {
      written = writeSync(this.fd, line);
    } finally {
      if (written !== line.length) ftruncateSync(this.fd, this.size);
    }
    if (written !== line.length) throw new Error('the settlement journal took only part of a write');
    this.size += written;
    this.lastSeq = first + batches.length - 1;
    return first;
  }

  /** Keeps a journaled batch the database refused (see setAside); throws if it cannot. */
  setAside(entry: JournaledBatch, error: unknown): void {
    setAside(this.databasePath, entry, error);
  }

  /** To be called when every batch appended so far is committed: the file may start afresh. */
  allCommitted(): void {
    if (this.size < RESTART_AT_BYTES) return;
    ftruncateSync(this.fd, 0);
    this.size = 0;
  }

  /** Closes the journal; removes the file when everything in it was committed. */
  close(allCommitted: boolean): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    if (allCommitted) unlinkSync(this.file);
  }
}

function replay(
  file: string,
  writer: LedgerBatchWriter,
  onRefused: (entry: JournaledBatch, error: unknown) => void,
): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const lines = text.split('\n');
  const journaled: JournaledBatch[] = [];
  for (const [index, line] of lines.entries()) {
    if (line === '') continue;
    const parsed = parseLine(line);
    if (parsed) {
      journaled.push(parsed);
      continue;
    }
    // A line cut short can only be the last one: its `write` never returned, so no client was
    // answered on the strength of it.
    if (index === lines.length - 1) break;
    throw new SettlementJournalError(
      `${file}, line ${index + 1}: not a ledger batch written by Tollgate. The lines after it may ` +
        'hold settlements missing from the database, so the server does not start until the file ' +
        'is repaired or moved away.',
    );
  }
  return writer.commitUnapplied(journaled, onRefused);
}

function parseLine(line: string): JournaledBatch | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const { seq, batch } = (value ?? {}) as {
    seq?: unknown;
    batch?: Partial<Record<keyof LedgerBatch, unknown>>;
  };
  if (!Number.isSafeInteger(seq) || (seq as number) < 1 || typeof batch !== 'object' || batch === null)
    return undefined;
  const parts = [batch.entries, batch.holds, batch.usage, batch.topups, batch.deltas];
  if (!parts.every((part) => Array.isArray(part) && part.every(Array.isArray))) return undefined;
  return { seq: seq as number, batch: batch as LedgerBatch };
}
