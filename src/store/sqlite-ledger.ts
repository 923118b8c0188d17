import type { Database as BetterSqlite, Statement } from 'better-sqlite3';
import type { Micros } from '../domain/money.js';
import type { PoolUsage, SpendScope } from '../domain/spend-scope.js';
import type { Pool, PoolPart } from '../domain/waterfall.js';
import type {
  ChargeDecision,
  HoldDecision,
  HoldToPlace,
  Ledger,
  LedgerEntry,
  LedgerKind,
  PlaceOutcome,
  Settlement,
  UsageFacts,
  UsageRecord,
} from '../ports/ledger.js';
import type { DataVersionWatch } from './data-version-watch.js';
import type { HoldEntriesRow } from './hold-entries-insert.js';
import { isRowRefusal, type LedgerBatch, LedgerBatchWriter } from './ledger-batch.js';
import { checkCharge, prepaidPart } from './ledger-shapes.js';
import { integer, isAmount, text } from './row-values.js';
import type { SettlementJournal } from './settlement-journal.js';
import { SqliteAutoTopup } from './sqlite-auto-topup.js';
import { type HeldRequest, SqlitePoolSpend } from './sqlite-pool-spend.js';
import { usageRow } from './usage-row.js';

/**
 * The ledger on SQLite, built for the request path.
 *
 * Balances and pool spend are decided in memory and written behind in batches. Node runs one
 * request's check and reservation without interleaving, so "every pool has room, then reserve" in
 * memory cannot be raced; a SQLite database is served by one Tollgate process (server-lock.ts;
 * scale-out is PostgreSQL's job).
 *
 * A hold lives in memory while its request runs, and ends only with it: nothing expires a hold in
 * flight, so no request outlives its hold (providers' `timeouts.total_ms` bounds a request). When
 * the request settles or is released, its hold, settlement and release entries (one triple per
 * pool it drew on) are queued together, and
 * once the requests ending over a few event-loop turns have gathered (flushWhenGathered) the queue
 * is written in one transaction (multi-row INSERTs, one UPDATE per account) and committed: group
 * commit. Timed inside the server, a commit costs about 80 µs of its own plus about 14 µs a request
 * for the rows, so under load many requests share one. The database therefore never holds a
 * half-finished request: after a crash there is no hold to recover, and the balance equals the sum
 * of the prepaid entries at every commit.
 *
 * Durability is not traded away: credits and settlements resolve only after the COMMIT containing
 * them, or, for a group of at most JOURNAL_MAX_GROUP, after the group's line in the settlement
 * journal is written (settlement-journal.ts), with the commit on the next turn; callers answer the
 * client after that.
 *
 * Another process (the CLI adding credits) is noticed through DataVersionWatch; the in-memory
 * balances are then re-read.
 *
 * One request's rows can never fail the others': their values are made valid as they are queued
 * (row-values.ts; amounts are checked, and a wrong one refused before anything changes), and
 * should the database refuse a row all the same, the group is committed again request by request
 * (each in a savepoint), so that only the request whose row was refused fails. A balance may go
 * below zero: a settlement charges what the provider reported, even above its hold (ports/ledger.ts).
 *
 * Plain SQL over prepared statements rather than Kysely here: measured, building and awaiting the
 * same queries through Kysely cost about three times the SQLite work itself. Kysely owns the schema.
 */
type OpenHold = HeldRequest;

/** Where a request's rows end in the queues: the group's rows, cut at these, are its requests'. */
interface QueueEnds {
  readonly entries: number;
  readonly holds: number;
  readonly usage: number;
  readonly topups: number;
}

const NO_ROWS: QueueEnds = { entries: 0, holds: 0, usage: 0, topups: 0 };

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
  readonly ends: QueueEnds;
  /** The one account whose committed balance the request changes, and by how much. */
  readonly accountId: string;
  readonly delta: Micros;
}

/** Where a ledger reports rows the database refused: a bug, since rows are made valid as queued. */
export interface LedgerErrorLog {
  error(details: Record<string, unknown>, message: string): void;
}

/**
 * Measured at 32 connections (`node dist/bench/profile.js 5 32`, four interleaved rounds each):
 * committing every turn made groups of about 11 requests and 8.5k req/s; up to 2 turns, 21 and
 * 9.7k; 3 turns, 26 and 9.9k; 4 turns, 26 and 9.2k (requests waiting for a commit are requests the
 * load generator cannot send again). At 64 connections with an upstream answering after 20 ms,
 * where latency rather than CPU decides, 3 turns did no harm: 2.62k req/s against 2.56k.
 */
const MAX_TURNS_GATHERING = 3;

/**
 * The largest group answered from the settlement journal before its commit. A commit costs about
 * 80 µs of its own, a journal line about 10 µs of CPU more (the line, then the commit all the
 * same), so the journal is for when latency rather than CPU is short: a lone client, where each
 * request would otherwise wait for a commit of its own. Under load groups are tens of requests and
 * commit directly.
 */
const JOURNAL_MAX_GROUP = 2;

export class SqliteLedger implements Ledger {
  /** Available prepaid balance per account: committed, plus changes queued, minus holds in flight. */
  private readonly known = new Map<string, Micros>();
  /** Prepaid credit held by requests in flight, per account; never written until the request ends. */
  private readonly reserved = new Map<string, Micros>();
  private queuedDelta = new Map<string, Micros>();
  /** Credits, one row an entry. */
  private queuedEntries: unknown[][] = [];
  /** Closed holds, one row a pool, each expanded into its entries by the database. */
  private queuedHolds: HoldEntriesRow[] = [];
  private queuedUsage: unknown[][] = [];
  private waiters: Waiter[] = [];
  /**
   * Batches in the settlement journal (one a request), answered, and not yet committed, oldest
   * first; their sequence numbers run up to journaledThrough without a gap.
   */
  private journaled: LedgerBatch[] = [];
  private journaledThrough = 0;
  /** What the journaled batches will add to each account's committed balance. */
  private readonly journaledDelta = new Map<string, Micros>();
  private committingJournaled: NodeJS.Immediate | undefined;
  /** The last commit of journaled batches failed: groups commit (and fail) before answering until one succeeds. */
  private journaledCommitFailed = false;
  /** The pending turn-by-turn wait for a group to gather (flushWhenGathered), if one is running. */
  private gathering: NodeJS.Immediate | undefined;
  private turnsGathered = 0;
  private waitersLastTurn = 0;
  private readonly holds = new Map<string, OpenHold>();

  private readonly writer: LedgerBatchWriter;
  private readonly selectAvailable: Statement<[string]>;
  private readonly selectEntries: Statement<[string]>;
  private readonly spend: SqlitePoolSpend;
  private readonly topup: SqliteAutoTopup;

  constructor(
    db: BetterSqlite,
    private readonly watch: DataVersionWatch,
    private readonly newId: (prefix: string) => string,
    /** Only the server's ledger has one (settlement-journal.ts); without it, every group commits first. */
    private readonly journal?: SettlementJournal,
    private readonly log?: LedgerErrorLog,
  ) {
    watch.onExternalChange(() => this.forgetBalances());
    this.writer = new LedgerBatchWriter(db);
    this.selectAvailable = db.prepare('SELECT available_micros FROM accounts WHERE id = ?');
    this.selectEntries = db.prepare(
      `SELECT id, account_id, kind, pool, key_id, amount_micros, hold_id, note, created_at, period_at
         FROM ledger_entries WHERE account_id = ? ORDER BY rowid`,
    );
    // Loading a pool's spend reads the ledger, so whatever is queued is committed first.
    this.spend = new SqlitePoolSpend(
      db,
      () => this.flush(),
      () => this.holds.values(),
    );
    this.topup = new SqliteAutoTopup(db);
  }

  /** Re-read balances and auto top-up settings on next use: after the CLI or another service changed them. */
  forgetBalances(): void {
    // What is re-read should include what was answered from the journal.
    this.commitJournaled();
    this.known.clear();
    this.topup.forget();
  }

  async available(accountId: string): Promise<Micros | undefined> {
    return this.availableNow(accountId);
  }

  async usage(scope: SpendScope, now: number): Promise<PoolUsage | undefined> {
    return this.usageNow(scope, now);
  }

  async credit(entry: {
    id: string;
    accountId: string;
    amount: Micros;
    note: string;
    now: number;
  }): Promise<boolean> {
    // Only a settlement may take a balance down, so that a debt only ever comes from usage.
    if (!isAmount(entry.amount) || entry.amount === 0)
      throw new RangeError(`a credit must be a positive whole number of micro-USD, got ${entry.amount}`);
    if (this.availableNow(entry.accountId) === undefined) return false;
    this.change(entry.accountId, entry.amount, entry.amount);
    this.queuedEntries.push([
      text(entry.id),
      entry.accountId,
      'credit',
      'prepaid',
      entry.amount,
      null,
      null,
      text(entry.note),
      integer(entry.now),
      integer(entry.now),
    ]);
    await this.durable(entry.accountId, entry.amount);
    return true;
  }

  async placeHold(hold: HoldToPlace, decide: HoldDecision): Promise<PlaceOutcome> {
    // From reading the usage to reserving, nothing awaits: no other request can interleave.
    const usage = this.usageNow(hold.scope, hold.now);
    if (!usage) return 'unknown-account';
    const parts = decide(usage);
    if (!parts) return 'refused';
    const { scope } = hold;
    let amount = 0;
    for (const part of parts) {
      if (!isAmount(part.amount))
        throw new RangeError('a hold takes whole non-negative micro-USD from each pool');
      amount += part.amount;
    }
    const prepaid = prepaidPart(parts);
    // A balance in debt has nothing available, but a hold that takes none of it may still be placed.
    if (prepaid > 0 && prepaid > usage.prepaidAvailable)
      throw new Error('a hold may not take more prepaid credit than is available');
    if (prepaid > 0) {
      this.known.set(scope.accountId, usage.prepaidAvailable - prepaid);
      this.addTo(this.reserved, scope.accountId, prepaid);
    }
    this.spend.reserve(scope, hold.now, parts, amount);
    this.holds.set(hold.id, { scope, parts, amount, placedAt: hold.now });
    return 'placed';
  }

  async settle(holdId: string, decide: ChargeDecision, usage: UsageFacts): Promise<Settlement> {
    const open = this.holds.get(holdId);
    if (!open) return this.settleWithoutHold(holdId, decide, usage);
    const at = integer(usage.createdAt);
    // Decided before anything changes: a decision the ledger cannot write leaves the hold open,
    // for its request to release.
    const charged = decide({
      scope: open.scope,
      parts: open.parts,
      amount: open.amount,
      usage: () => this.usageNow(open.scope, at),
    });
    checkCharge(open.parts, charged);
    const hold = this.closeHold(holdId)!;
    const { accountId } = hold.scope;
    const prepaidHeld = prepaidPart(hold.parts);
    const prepaidCharged = prepaidPart(charged);
    // Above the hold, `available` falls by more than was held, below zero if need be: a debt.
    this.change(accountId, prepaidHeld - prepaidCharged, -prepaidCharged);
    this.spend.settle(hold.scope, hold.placedAt, hold.parts, hold.amount, charged);
    this.queueTriples(holdId, hold, charged, at);
    const pools: Partial<Record<Pool, Micros>> = {};
    let total = 0;
    for (const part of charged) {
      pools[part.pool] = (pools[part.pool] ?? 0) + part.amount;
      total += part.amount;
    }
    this.queuedUsage.push(usageRow(usage, total, pools, total > hold.amount));
    if (prepaidCharged > 0) this.askForTopup(accountId, at);
    await this.durable(accountId, -prepaidCharged);
    return { holdWasOpen: true, charged, heldMicros: hold.amount };
  }

  async release(holdId: string, usage: UsageRecord | undefined, now: number): Promise<boolean> {
    const hold = this.closeHold(holdId);
    if (!hold) return false;
    this.change(hold.scope.accountId, prepaidPart(hold.parts), 0);
    this.spend.release(hold.scope, hold.placedAt, hold.parts, hold.amount);
    this.queueTriples(holdId, hold, undefined, integer(now));
    if (usage) this.queuedUsage.push(usageRow(usage, usage.costMicros, usage.pools ?? {}, false));
    await this.durable(hold.scope.accountId, 0);
    return true;
  }

  async entries(accountId: string): Promise<LedgerEntry[]> {
    this.flush();
    const rows = this.selectEntries.all(accountId) as {
      id: string;
      account_id: string;
      kind: LedgerKind;
      pool: Pool;
      key_id: string | null;
      amount_micros: number;
      hold_id: string | null;
      note: string | null;
      created_at: number;
      period_at: number;
    }[];
    return rows.map((row) => ({
      id: row.id,
      accountId: row.account_id,
      kind: row.kind,
      pool: row.pool,
      keyId: row.key_id,
      amount: row.amount_micros,
      holdId: row.hold_id,
      note: row.note,
      createdAt: row.created_at,
      periodAt: row.period_at,
    }));
  }

  /**
   * Writes and commits everything queued or journaled: before a read of the ledger, and before
   * closing.
   */
  flush(): void {
    this.commitGroup(false);
    this.commitJournaled();
  }

  /** Commits what the journal holds and closes it; the ledger is not used after this. */
  close(): void {
    this.flush();
    this.journal?.close(this.journaled.length === 0);
  }

  /**
   * Ends the group that has gathered: journaled and answered at once when it is small enough and
   * `mayJournal`, else committed (with any journaled batches before it) and then answered.
   */
  private commitGroup(mayJournal: boolean): void {
    if (this.gathering) clearImmediate(this.gathering);
    this.gathering = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    if (this.queuedEntries.length === 0 && this.queuedHolds.length === 0 && this.queuedUsage.length === 0) {
      // A release of a hold that drew on no pool, without a record: nothing to write.
      for (const waiter of waiters) waiter.resolve();
      return;
    }
    const batch: LedgerBatch = {
      entries: this.queuedEntries,
      holds: this.queuedHolds,
      usage: this.queuedUsage,
      topups: this.topup.takeQueued(),
      deltas: [...this.queuedDelta],
    };
    this.queuedDelta = new Map();
    this.queuedEntries = [];
    this.queuedHolds = [];
    this.queuedUsage = [];
    if (
      mayJournal &&
      waiters.length > 0 &&
      waiters.length <= JOURNAL_MAX_GROUP &&
      this.journalNow(batch, waiters)
    ) {
      for (const waiter of waiters) waiter.resolve();
      return;
    }
    const journaled = this.journaled;
    try {
      if (journaled.length === 0) this.writer.commit([batch]);
      else this.writer.commit([...journaled, batch], this.journaledThrough);
    } catch (error) {
      if (isRowRefusal(error) && this.commitEachAlone(batch, waiters)) return;
      // Nothing of this batch was written: forget what memory believed, so that the next figures
      // come from the database (and the holds still in flight) alone.
      this.forgetBalances();
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    if (journaled.length > 0) this.journaledCommitted();
    for (const waiter of waiters) waiter.resolve();
  }

  /**
   * After the database refused a row of the group: commits the journaled batches and each request
   * of the group in savepoints of their own, so that only what holds a refused row is left out.
   * A refused journaled batch is set aside (settlement-journal.ts); a refused request fails.
   * False if the database could not commit at all.
   */
  private commitEachAlone(batch: LedgerBatch, waiters: readonly Waiter[]): boolean {
    const journaled = this.journaled;
    const batches = [...journaled, ...requestsOf(batch, waiters)];
    const refused = new Map<number, unknown>();
    try {
      this.writer.commitEach(
        batches,
        journaled.length > 0 ? this.journaledThrough : undefined,
        (i, error) => {
          if (i < journaled.length) this.setAside(i, error);
          refused.set(i, error);
        },
      );
    } catch {
      return false;
    }
    if (journaled.length > 0) this.journaledCommitted();
    this.afterRefused(refused, journaled.length);
    waiters.forEach((waiter, i) => {
      const error = refused.get(journaled.length + i);
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    });
    return true;
  }

  /** Appends the group to the journal, a line a request, and schedules its commit; false if it must commit now. */
  private journalNow(batch: LedgerBatch, waiters: readonly Waiter[]): boolean {
    // While the database refuses commits, answering from the journal would hide it from the
    // clients and the logs, and grow the journal without bound.
    if (!this.journal || this.journaledCommitFailed) return false;
    const requests = requestsOf(batch, waiters);
    try {
      this.journaledThrough = this.journal.append(requests) + requests.length - 1;
    } catch {
      return false;
    }
    for (const request of requests) this.journaled.push(request);
    for (const [accountId, delta] of batch.deltas) this.addTo(this.journaledDelta, accountId, delta);
    this.committingJournaled ??= setImmediate(this.commitJournaledLater);
    return true;
  }

  private readonly commitJournaledLater = (): void => {
    this.committingJournaled = undefined;
    this.commitJournaled();
  };

  /**
   * Commits the journaled batches. If the database refuses a row, each batch is committed in a
   * savepoint of its own and the refused ones are set aside, so that they block nothing. If it
   * fails otherwise, they stay journaled, answered and counted in the balances; the next group's
   * commit tries again (and its clients see the error), and failing that the replay at the next start.
   */
  private commitJournaled(): void {
    const journaled = this.journaled;
    if (journaled.length === 0) return;
    try {
      this.writer.commit(journaled, this.journaledThrough);
    } catch (error) {
      if (!isRowRefusal(error) || !this.commitJournaledAlone()) this.journaledCommitFailed = true;
      return;
    }
    this.journaledCommitted();
  }

  private commitJournaledAlone(): boolean {
    const journaled = this.journaled.length;
    const refused = new Map<number, unknown>();
    try {
      this.writer.commitEach(this.journaled, this.journaledThrough, (i, error) => {
        this.setAside(i, error);
        refused.set(i, error);
      });
    } catch {
      return false;
    }
    this.journaledCommitted();
    this.afterRefused(refused, journaled);
    return true;
  }

  /** Keeps the i-th journaled batch, which the database refused, out of the ledger but on file. */
  private setAside(i: number, error: unknown): void {
    const seq = this.journaledThrough - this.journaled.length + 1 + i;
    this.journal!.setAside({ seq, batch: this.journaled[i]! }, error);
  }

  /**
   * Reports what the database refused (the first `journaled` of `refused` were journaled, and set
   * aside), and forgets the balances memory believed, which counted it.
   */
  private afterRefused(refused: ReadonlyMap<number, unknown>, journaled: number): void {
    if (refused.size === 0) return;
    for (const [i, error] of refused) {
      const reason = error instanceof Error ? error.message : String(error);
      this.log?.error(
        { reason },
        i < journaled
          ? 'the database refused a journaled settlement: set aside in the refused settlements file'
          : "the database refused a request's ledger rows: that request failed, the others were committed",
      );
    }
    this.forgetBalances();
  }

  private journaledCommitted(): void {
    if (this.committingJournaled) clearImmediate(this.committingJournaled);
    this.committingJournaled = undefined;
    this.journaled = [];
    this.journaledDelta.clear();
    this.journaledCommitFailed = false;
    this.journal?.allCommitted();
  }

  /**
   * One hold, settle and release entry per pool the request drew on (or was charged on: a hold of
   * no part charged on prepaid credit holds 0 there); no settle when released.
   */
  private queueTriples(holdId: string, hold: OpenHold, charged: readonly PoolPart[] | undefined, at: number) {
    const { accountId, keyId } = hold.scope;
    const parts = charged ?? hold.parts;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      this.queuedHolds.push([
        this.newId('led'),
        charged ? this.newId('led') : null,
        this.newId('led'),
        accountId,
        part.pool,
        hold.parts[i]?.amount ?? 0,
        holdId,
        keyId,
        hold.placedAt,
        charged ? part.amount : 0,
        at,
      ]);
    }
  }

  private askForTopup(accountId: string, now: number): void {
    const available = this.known.get(accountId);
    if (available === undefined) return;
    // The balance the settlement left: what is available plus what requests in flight still hold.
    const balance = available + (this.reserved.get(accountId) ?? 0);
    this.topup.consider(accountId, balance, now, this.newId('topup'));
  }

  /** Resolves once the request's rows, just queued, are durable; `delta` is what it adds to the committed balance. */
  private durable(accountId: string, delta: Micros): Promise<void> {
    this.scheduleFlush();
    const ends: QueueEnds = {
      entries: this.queuedEntries.length,
      holds: this.queuedHolds.length,
      usage: this.queuedUsage.length,
      topups: this.topup.queuedCount(),
    };
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject, ends, accountId, delta }));
  }

  private scheduleFlush(): void {
    if (this.gathering) return;
    this.turnsGathered = 0;
    this.waitersLastTurn = 0;
    this.gathering = setImmediate(this.flushWhenGathered);
  }

  /**
   * Commits once a turn of the event loop brought no new request to the group, or after
   * MAX_TURNS_GATHERING turns. Under load every turn ends some requests, and a commit costs far more
   * than a row (each changed page is written to the WAL), so letting a few turns' requests share
   * one commit pays for their wait. A lone request waits one empty turn, a few µs.
   */
  private readonly flushWhenGathered = (): void => {
    const waiters = this.waiters.length;
    if (waiters > this.waitersLastTurn && this.turnsGathered < MAX_TURNS_GATHERING) {
      this.turnsGathered++;
      this.waitersLastTurn = waiters;
      this.gathering = setImmediate(this.flushWhenGathered);
      return;
    }
    this.commitGroup(true);
  };

  /**
   * A settlement whose hold is no longer open: the request was served, so it is charged and
   * recorded all the same, never dropped. The pools the hold drew on went with it, so the whole
   * charge goes to the account's prepaid credit, against a hold of zero.
   */
  private async settleWithoutHold(
    holdId: string,
    decide: ChargeDecision,
    usage: UsageFacts,
  ): Promise<Settlement> {
    const at = integer(usage.createdAt);
    const scope: SpendScope = {
      accountId: usage.accountId,
      keyId: usage.keyId,
      keyLimit: undefined,
      primary: undefined,
      prepaid: true,
    };
    // The pools the hold drew on are no longer known: to the decision it is a hold of no part,
    // whose charge prepaid credit pays (domain/split-charge.ts).
    const charged = decide({ scope, parts: [], amount: 0, usage: () => this.usageNow(scope, at) });
    checkCharge([], charged);
    const charge = prepaidPart(charged);
    const nothingHeld: OpenHold = { scope, parts: [], amount: 0, placedAt: at };
    this.change(scope.accountId, -charge, -charge);
    this.spend.settle(scope, at, nothingHeld.parts, 0, charged);
    this.queueTriples(holdId, nothingHeld, charged, at);
    this.queuedUsage.push(usageRow(usage, charge, charge > 0 ? { prepaid: charge } : {}, false));
    if (charge > 0) this.askForTopup(scope.accountId, at);
    await this.durable(scope.accountId, -charge);
    return { holdWasOpen: false, charged, heldMicros: 0 };
  }

  private closeHold(holdId: string): OpenHold | undefined {
    const hold = this.holds.get(holdId);
    if (!hold) return undefined;
    this.holds.delete(holdId);
    const prepaid = prepaidPart(hold.parts);
    if (prepaid > 0) this.addTo(this.reserved, hold.scope.accountId, -prepaid);
    return hold;
  }

  /** `available` moves by what the request frees; `written` is what the database will see. */
  private change(accountId: string, available: Micros, written: Micros): void {
    const known = this.known.get(accountId);
    if (known !== undefined) this.known.set(accountId, known + available);
    this.addTo(this.queuedDelta, accountId, written);
  }

  private addTo(map: Map<string, Micros>, accountId: string, delta: Micros): void {
    const next = (map.get(accountId) ?? 0) + delta;
    if (next === 0) map.delete(accountId);
    else map.set(accountId, next);
  }

  private usageNow(scope: SpendScope, now: number): PoolUsage | undefined {
    const prepaidAvailable = this.availableNow(scope.accountId);
    if (prepaidAvailable === undefined) return undefined;
    return this.spend.usage(scope, now, prepaidAvailable);
  }

  private availableNow(accountId: string): Micros | undefined {
    this.watch.check();
    const known = this.known.get(accountId);
    if (known !== undefined) return known;
    const row = this.selectAvailable.get(accountId) as { available_micros: number } | undefined;
    if (!row) return undefined;
    const available =
      row.available_micros +
      (this.queuedDelta.get(accountId) ?? 0) +
      (this.journaledDelta.get(accountId) ?? 0) -
      (this.reserved.get(accountId) ?? 0);
    this.known.set(accountId, available);
    return available;
  }
}

/** The group's rows cut into its requests' (`waiters` in the order they queued). */
function requestsOf(batch: LedgerBatch, waiters: readonly Waiter[]): LedgerBatch[] {
  if (waiters.length === 1) return [batch];
  let from = NO_ROWS;
  return waiters.map(({ ends, accountId, delta }) => {
    const request: LedgerBatch = {
      entries: batch.entries.slice(from.entries, ends.entries),
      holds: batch.holds.slice(from.holds, ends.holds),
      usage: batch.usage.slice(from.usage, ends.usage),
      topups: batch.topups.slice(from.topups, ends.topups),
      deltas: delta === 0 ? [] : [[accountId, delta]],
    };
    from = ends;
    return request;
  });
}
