import type pg from 'pg';
import { type AutoTopup, needsTopup } from '../domain/auto-topup.js';
import type { Micros } from '../domain/money.js';
import type { PoolUsage, SpendScope } from '../domain/spend-scope.js';
import type { Pool, PoolPart } from '../domain/waterfall.js';
import type {
  Again,
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
import { AccountBatches } from './account-batches.js';
import { type InstanceTimings, LedgerInstance, type Orphan } from './ledger-instance.js';
import { checkCharge, holdAmount, partOf, prepaidPart } from './ledger-shapes.js';
import { LEASE_READ, RECALL_LEASES } from './postgres-lease-sql.js';
import { takeSlice } from './postgres-lease-take.js';
import {
  type DirectResult,
  LeaseBook,
  type LeaseRequest,
  type LeaseSettings,
  type LocalHold,
} from './postgres-leases.js';
import {
  closingEntries,
  lacksTallies,
  type PlacedHold,
  placedHold,
  poolUsage,
  type UsageRow,
  usageParams,
  usageValues,
} from './postgres-ledger-rows.js';
import {
  AVAILABLE,
  CLOSE_HOLD,
  CREDIT,
  ENTRIES,
  ENTRY_ARRAYS,
  INIT_TALLIES,
  LOCK_ACCOUNT,
  PLACE_HOLD,
  READ_USAGE,
  RECORDED,
} from './postgres-ledger-sql.js';
import { integer, isAmount, text } from './row-values.js';

type Run = <R extends pg.QueryResultRow>(query: {
  name: string;
  text: string;
  values?: unknown[];
}) => Promise<pg.QueryResult<R>>;

interface LockedAccount {
  available_micros: number;
  auto_topup_enabled: number;
  auto_topup_threshold_micros: number;
  auto_topup_amount_micros: number;
  pending: boolean;
}

export interface PostgresLedgerOptions {
  /** This instance's id, recorded on each of its holds. */
  readonly instanceId: string;
  readonly timings: InstanceTimings;
  readonly log?: { error(details: Record<string, unknown>, message: string): void };
  /** Credit leases (postgres-leases.ts); none when absent or of 0 micro-USD. */
  readonly leases?: LeaseSettings;
  /** Where the leases held and the recalls answered are counted. */
  readonly metrics?: { leasesOpen(count: number): void; leaseRecalled(): void };
}

/** The instance cannot vouch for its holds (no heartbeat for half the timeout): it admits nothing. */
export class LedgerUnavailableError extends Error {}

/** A COMMIT without an answer: the transaction may have committed or not; `cause` says why. */
export class CommitInDoubtError extends Error {}

const NO_ENTRIES: unknown[][] = Array.from({ length: ENTRY_ARRAYS }, () => []);

/** No tallies and no hold: the scope settleWithoutHold charges, prepaid credit only. */
function prepaidScope(accountId: string, keyId: string): SpendScope {
  return { accountId, keyId, keyLimit: undefined, primary: undefined, prepaid: true };
}

/**
 * The ledger on PostgreSQL, shared by every instance (and the CLI).
 *
 * Every change of an account's money runs in one transaction that first takes the account's row
 * lock (LOCK_ACCOUNT): holds, settlements, releases from every instance are serialised per
 * account, so reading the usage, running the decision and reserving cannot be raced, and two
 * accounts never wait for each other. Usage is read from tally rows kept in the same transactions
 * (postgres-ledger-sql.ts), not summed from the ledger; only the Pro chat quota's rolling windows
 * are summed, over the index, for the window's span.
 *
 * A request is answered after its COMMIT; there is no journal. Round trips, each a prepared
 * statement: placeHold 5 (BEGIN, lock, read usage, insert the hold, COMMIT), settle and release 5
 * (BEGIN, lock, close the hold and read usage, write entries + record + tallies, COMMIT), credit 1.
 * The first hold of an account, a period or a changed key limit adds one (INIT_TALLIES). The lock
 * is held for the middle three and the commit: on one account, that is what serialises. Steps on
 * the same account queued while one runs share the next transaction (account-batches.ts): each
 * then costs its three middle round trips, and the batch one BEGIN and one COMMIT.
 *
 * Holds are rows carrying their instance's id, so that a crashed instance's come back
 * (ledger-instance.ts).
 *
 * Credit leases (postgres-leases.ts): a busy scope's holds are decided in memory against a slice
 * reserved by an earlier request's transaction, with no round trip; their settlement and release
 * cost the same 5 round trips (the read also shrinks the lease). A refused hold costs one
 * statement more (RECALL_LEASES), and waits for other instances' slices to come back if any are
 * out.
 */
export class PostgresLedger implements Ledger {
  /** The holds this instance placed and has not closed: their scopes, for settlement reads. */
  private readonly open = new Map<string, PlacedHold>();
  /** Each account's transactions from this instance, batched (account-batches.ts). */
  private readonly batches = new AccountBatches<Run>((work) => this.transaction(work));
  readonly instance: LedgerInstance;
  /** This instance's credit leases; with a slice of 0 it only recalls others' before a refusal. */
  readonly leases: LeaseBook;

  constructor(
    private readonly pool: pg.Pool,
    private readonly newId: (prefix: string) => string,
    private readonly options: PostgresLedgerOptions,
  ) {
    this.instance = new LedgerInstance(
      pool,
      options.instanceId,
      options.timings,
      (orphan) => this.returnOrphan(orphan),
      (error, what) =>
        options.log?.error(
          { reason: error instanceof Error ? error.message : String(error) },
          `ledger ${what} failed; logged again only after it has worked`,
        ),
    );
    this.leases = new LeaseBook(options.leases ?? { micros: 0, instances: 1 }, {
      instanceId: options.instanceId,
      vouchesSince: (since) => this.instance.vouchesSince(since),
      withAccount: (accountId, work) =>
        this.transaction(async (run) => {
          await this.lock(run, accountId);
          return work(run);
        }),
      query: (query) => this.pool.query(query),
      newId,
      leasesOpen: (count) => options.metrics?.leasesOpen(count),
      leaseRecalled: () => options.metrics?.leaseRecalled(),
      error: (error, what) =>
        options.log?.error(
          { reason: error instanceof Error ? error.message : String(error) },
          `${what} failed`,
        ),
    });
  }

  /** Registers the instance (heartbeat) and starts sweeping crashed instances' holds. */
  start(): Promise<void> {
    return this.instance.start();
  }

  /**
   * A plan, key limit or account changed: leases were sized and keyed for the old scope, so their
   * unused parts go back (nothing else is kept in memory that another instance could change).
   */
  forgetBalances(): void {
    void this.leases.returnAll();
  }

  /** Returns the leases' unused parts, stops heartbeating; the instance's row goes once it holds nothing. */
  async close(): Promise<void> {
    await this.leases.close();
    await this.instance.stop();
  }

  async available(accountId: string): Promise<Micros | undefined> {
    const { rows } = await this.pool.query<{ available: number }>({ ...AVAILABLE, values: [accountId] });
    return rows[0]?.available;
  }

  async usage(scope: SpendScope, now: number): Promise<PoolUsage | undefined> {
    return this.transaction(async (run) => {
      const account = await this.lock(run, scope.accountId);
      if (!account) return undefined;
      return (await this.read(run, null, scope, now, account.available_micros)).usage;
    });
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
    const result = await this.pool.query({
      ...CREDIT,
      values: [text(entry.id), entry.accountId, entry.amount, text(entry.note), integer(entry.now)],
    });
    return result.rowCount === 1;
  }

  async placeHold(hold: HoldToPlace, decide: HoldDecision): Promise<PlaceOutcome> {
    if (!this.instance.alive())
      throw new LedgerUnavailableError(
        'the ledger has not reached the database for too long to admit a request',
      );
    return this.leases.place(hold, decide, (lease) => this.placeDirect(hold, decide, lease));
  }

  /**
   * The database path: reads the usage under the account's lock, decides and reserves; with
   * `lease`, also takes a slice for the scope when the room after the hold allows one. A refusal
   * recalls other instances' leases on the account.
   */
  private async placeDirect(
    hold: HoldToPlace,
    decide: HoldDecision,
    lease: LeaseRequest | undefined,
  ): Promise<DirectResult> {
    const { scope } = hold;
    let held: PlacedHold | undefined;
    const placed = await this.batches.run(scope.accountId, async (run): Promise<DirectResult> => {
      const account = await this.lock(run, scope.accountId);
      if (!account) return { outcome: 'unknown-account', recalling: 0 };
      const { usage } = await this.read(run, null, scope, hold.now, account.available_micros);
      const parts = decide(usage);
      if (!parts) {
        const { rows } = await run<{ pending: string }>({
          ...RECALL_LEASES,
          values: [scope.accountId, this.options.instanceId, this.options.timings.timeoutMs],
        });
        return { outcome: 'refused', recalling: Number(rows[0]?.pending ?? 0) };
      }
      const amount = holdAmount(parts);
      const prepaid = prepaidPart(parts);
      // A balance in debt has nothing available, but a hold that takes none of it may still be placed.
      if (prepaid > 0 && prepaid > usage.prepaidAvailable)
        throw new Error('a hold may not take more prepaid credit than is available');
      const subscription = partOf(parts, 'subscription');
      const agent = partOf(parts, 'agent_quota');
      await run({
        ...PLACE_HOLD,
        values: [
          hold.id,
          scope.accountId,
          scope.keyId,
          this.options.instanceId,
          integer(hold.now),
          amount,
          partOf(parts, 'prepaid') ?? null,
          subscription ?? null,
          agent ?? null,
          JSON.stringify(parts),
          JSON.stringify(scope),
          amount,
          prepaid,
          subscription ?? 0,
          agent ?? 0,
          agent === undefined ? 0 : 1,
          null,
        ],
      });
      const after: PoolUsage = {
        ...usage,
        prepaidAvailable: usage.prepaidAvailable - prepaid,
        subscriptionSpent: usage.subscriptionSpent + (subscription ?? 0),
        keySpent: usage.keySpent + amount,
      };
      held = { id: hold.id, scope, parts, amount, placedAt: integer(hold.now) };
      const slice = lease
        ? await takeSlice(
            run,
            { hold, after, lease, instanceId: this.options.instanceId },
            this.leases.settings,
            this.newId,
          )
        : undefined;
      return { outcome: 'placed', recalling: 0, ...(slice ? { slice } : {}) };
    });
    if (placed.outcome === 'placed' && held) this.open.set(hold.id, held);
    return placed;
  }

  async settle(
    holdId: string,
    decide: ChargeDecision,
    usage: UsageFacts,
    again?: Again,
  ): Promise<Settlement> {
    const local = this.leases.local.get(holdId);
    if (again && (await this.recorded(usage))) {
      this.forgetClosed(holdId, local);
      return { holdWasOpen: false, charged: [], heldMicros: 0, repeated: true };
    }
    if (local) {
      try {
        return await this.closeLocal(local, decide, usage, integer(usage.createdAt), () => usage);
      } finally {
        this.leases.ended(holdId);
      }
    }
    const at = integer(usage.createdAt);
    const known = this.open.get(holdId);
    const accountId = known?.scope.accountId ?? usage.accountId;
    try {
      return await this.batches.run(accountId, async (run) => {
        const account = await this.lock(run, accountId);
        const scope = known?.scope ?? prepaidScope(accountId, usage.keyId);
        const read = await this.read(run, holdId, scope, at, account?.available_micros ?? 0);
        if (!read.hold) return this.settleWithoutHold(run, holdId, account, decide, usage, read.usage);
        const hold = read.hold;
        const current = known
          ? read.usage
          : (await this.read(run, null, hold.scope, at, account!.available_micros)).usage;
        // Decided before anything is written: a decision the ledger cannot write fails the
        // transaction, which leaves the hold open for its request to release.
        const charged = decide({
          scope: hold.scope,
          parts: hold.parts,
          amount: hold.amount,
          usage: () => current,
        });
        checkCharge(hold.parts, charged);
        const pools: Partial<Record<Pool, Micros>> = {};
        let total = 0;
        for (const part of charged) {
          pools[part.pool] = (pools[part.pool] ?? 0) + part.amount;
          total += part.amount;
        }
        await this.writeClose(
          run,
          account!,
          hold,
          charged,
          at,
          usageValues(usage, total, pools, total > hold.amount),
        );
        return { holdWasOpen: true, charged, heldMicros: hold.amount };
      });
    } finally {
      this.open.delete(holdId);
      this.leases.ended(holdId);
    }
  }

  /**
   * Closes a hold decided against a lease: in one transaction under the account's lock (account,
   * then the lease row, then the tallies: every path takes them in this order), shrinks the lease by
   * what the hold reserved and writes what closing a hold writes. With no `decide`, a release. The
   * lease gone (its instance was taken for dead and swept): charged as a hold no longer open.
   */
  private async closeLocal(
    local: LocalHold,
    decide: ChargeDecision | undefined,
    usage: UsageFacts | undefined,
    at: number,
    record: () => UsageFacts | UsageRecord | undefined,
  ): Promise<Settlement> {
    const { hold, take } = local;
    const accountId = hold.scope.accountId;
    let state: string | undefined;
    const settlement = await this.batches.run(accountId, async (run): Promise<Settlement> => {
      state = undefined;
      const account = await this.lock(run, accountId);
      const params = usageParams(local.lease.id, hold.scope, at);
      const row = (
        await run<UsageRow>({
          ...LEASE_READ,
          values: [...params, hold.amount, take.prepaid, take.primary],
        })
      ).rows[0]!;
      state = row.lease_state ?? undefined;
      if (!account) throw new Error(`closing a hold of an unknown account: ${accountId}`);
      let current = poolUsage(row, account.available_micros);
      if (lacksTallies(row))
        current = (await this.read(run, null, hold.scope, at, account.available_micros)).usage;
      if (state === undefined) {
        if (!decide || !usage) return { holdWasOpen: false, charged: [], heldMicros: 0 };
        return this.settleWithoutHold(run, hold.id, account, decide, usage, current);
      }
      if (!decide) {
        const released = record() as UsageRecord | undefined;
        await this.writeClose(
          run,
          account,
          hold,
          undefined,
          at,
          usageValues(released, released?.costMicros ?? 0, released?.pools ?? {}, false),
        );
        return { holdWasOpen: true, charged: [], heldMicros: hold.amount };
      }
      const charged = decide({
        scope: hold.scope,
        parts: hold.parts,
        amount: hold.amount,
        usage: () => current,
      });
      checkCharge(hold.parts, charged);
      const pools: Partial<Record<Pool, Micros>> = {};
      let total = 0;
      for (const part of charged) {
        pools[part.pool] = (pools[part.pool] ?? 0) + part.amount;
        total += part.amount;
      }
      await this.writeClose(
        run,
        account,
        hold,
        charged,
        at,
        usageValues(usage, total, pools, total > hold.amount),
      );
      return { holdWasOpen: true, charged, heldMicros: hold.amount };
    });
    // Only once committed: a failed settlement leaves the hold open for its request to release.
    this.leases.closedLocally(local, state);
    return settlement;
  }

  async release(
    holdId: string,
    usage: UsageRecord | undefined,
    now: number,
    again?: Again,
  ): Promise<boolean> {
    const local = this.leases.local.get(holdId);
    // A hold row is closed at most once whoever asks, but a lease's local hold must not shrink its
    // lease twice: unless its record shows the first try committed, the lease goes back instead.
    if (again && local && (!usage || (await this.recorded(usage)))) {
      this.forgetClosed(holdId, local);
      return true;
    }
    if (local) {
      try {
        return (await this.closeLocal(local, undefined, undefined, integer(now), () => usage)).holdWasOpen;
      } finally {
        this.leases.ended(holdId);
      }
    }
    const known = this.open.get(holdId);
    const accountId = known?.scope.accountId ?? usage?.accountId;
    try {
      return await this.returnHold(holdId, accountId, now, null, () =>
        usageValues(usage, usage?.costMicros ?? 0, usage?.pools ?? {}, false),
      );
    } finally {
      this.open.delete(holdId);
      this.leases.ended(holdId);
    }
  }

  /** Whether the request's usage record is written: its closing committed (CLOSE_HOLD writes both). */
  private async recorded(usage: UsageFacts): Promise<boolean> {
    const { rowCount } = await this.pool.query({
      ...RECORDED,
      values: [usage.accountId, integer(usage.createdAt), usage.requestId],
    });
    return (rowCount ?? 0) > 0;
  }

  /**
   * A retried closing that must write nothing: a local hold's lease goes back to its account, which
   * returns whatever the hold still reserved there, whether or not its first closing committed.
   */
  private forgetClosed(holdId: string, local: LocalHold | undefined): void {
    if (local) this.leases.abandoned(local);
    this.open.delete(holdId);
    this.leases.ended(holdId);
  }

  async entries(accountId: string): Promise<LedgerEntry[]> {
    const { rows } = await this.pool.query<{
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
    }>({ ...ENTRIES, values: [accountId] });
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

  /** A crashed instance's hold, back to its account (the sweeper). */
  private returnOrphan(orphan: Orphan): Promise<boolean> {
    return this.returnHold(
      orphan.holdId,
      orphan.accountId,
      Date.now(),
      'returned: its instance stopped',
      () => usageValues(undefined, 0, {}, false),
    );
  }

  /** Closes a hold without a charge: a release, or the sweeper's return. */
  private returnHold(
    holdId: string,
    accountId: string | undefined,
    now: number,
    note: string | null,
    record: () => unknown[],
  ): Promise<boolean> {
    const work = async (run: Run) => {
      // A hold this instance did not place (the sweeper's, or one forgotten): its account from its row.
      const owner = accountId ?? (await this.accountOf(run, holdId));
      if (owner === undefined) return false;
      const account = await this.lock(run, owner);
      if (!account) return false;
      const scope = this.open.get(holdId)?.scope ?? prepaidScope(owner, '');
      const read = await this.read(run, holdId, scope, now, account.available_micros);
      if (!read.hold) return false;
      // A lease is no spend: returning one (a crashed instance's) writes no record.
      const written = read.hold.lease ? usageValues(undefined, 0, {}, false) : record();
      await this.writeClose(run, account, read.hold, undefined, integer(now), written, note);
      return true;
    };
    return accountId === undefined ? this.transaction(work) : this.batches.run(accountId, work);
  }

  /**
   * A settlement whose hold is no longer open (released, or returned by the sweeper): the request
   * was served, so it is charged and recorded all the same, to prepaid credit, against a hold of 0.
   */
  private async settleWithoutHold(
    run: Run,
    holdId: string,
    account: LockedAccount | undefined,
    decide: ChargeDecision,
    usage: UsageFacts,
    current: PoolUsage,
  ): Promise<Settlement> {
    if (!account) throw new Error(`settling a request of an unknown account: ${usage.accountId}`);
    const at = integer(usage.createdAt);
    const scope = prepaidScope(usage.accountId, usage.keyId);
    const charged = decide({ scope, parts: [], amount: 0, usage: () => current });
    checkCharge([], charged);
    const charge = prepaidPart(charged);
    const nothingHeld: PlacedHold = { id: holdId, scope, parts: [], amount: 0, placedAt: at };
    await this.writeClose(
      run,
      account,
      nothingHeld,
      charged,
      at,
      usageValues(usage, charge, charge > 0 ? { prepaid: charge } : {}, false),
    );
    return { holdWasOpen: false, charged, heldMicros: 0 };
  }

  /**
   * Writes a closed hold: entries, balance, tallies, any auto top-up, the usage record. A lease
   * returned writes no entries (it never spent; its holds wrote their own), only the tallies.
   */
  private async writeClose(
    run: Run,
    account: LockedAccount,
    hold: PlacedHold,
    charged: readonly PoolPart[] | undefined,
    at: number,
    record: unknown[],
    note: string | null = null,
  ): Promise<void> {
    const held = hold.parts;
    const charges = charged ?? [];
    let total = 0;
    for (const part of charges) total += part.amount;
    const prepaidCharged = prepaidPart(charges);
    const balanceDelta = -prepaidCharged;
    const agentHeld = partOf(held, 'agent_quota');
    const topup =
      prepaidCharged > 0 ? this.topupFor(account, account.available_micros + balanceDelta) : undefined;
    await run({
      ...CLOSE_HOLD,
      values: [
        ...(hold.lease ? NO_ENTRIES : closingEntries(hold, charged, at, this.newId, note)),
        hold.scope.accountId,
        balanceDelta,
        hold.scope.accountId,
        hold.scope.keyId,
        total - hold.amount,
        -prepaidPart(held),
        (partOf(charges, 'subscription') ?? 0) - (partOf(held, 'subscription') ?? 0),
        -(agentHeld ?? 0),
        agentHeld === undefined ? 0 : -1,
        hold.placedAt,
        topup?.id ?? null,
        topup?.amount ?? 0,
        topup?.balance ?? 0,
        at,
        ...record,
      ],
    });
  }

  /** The auto top-up to ask for, decided by the domain's rule from the balance the settlement left. */
  private topupFor(
    account: LockedAccount,
    balance: Micros,
  ): { id: string; amount: Micros; balance: Micros } | undefined {
    const settings: AutoTopup = {
      enabled: account.auto_topup_enabled === 1,
      thresholdMicros: account.auto_topup_threshold_micros,
      amountMicros: account.auto_topup_amount_micros,
    };
    if (!needsTopup(settings, balance, account.pending)) return undefined;
    return { id: this.newId('topup'), amount: settings.amountMicros, balance };
  }

  private async lock(run: Run, accountId: string): Promise<LockedAccount | undefined> {
    const { rows } = await run<LockedAccount>({ ...LOCK_ACCOUNT, values: [accountId] });
    return rows[0];
  }

  private async accountOf(run: Run, holdId: string): Promise<string | undefined> {
    const { rows } = await run<{ account_id: string }>({
      name: 'tg_ledger_hold_account',
      text: 'SELECT account_id FROM ledger_holds WHERE id = $1',
      values: [holdId],
    });
    return rows[0]?.account_id;
  }

  /**
   * Reads the scope's usage (closing `holdId` in the same statement, if given), starting the
   * tallies it lacks first. Under the account's lock.
   */
  private async read(
    run: Run,
    holdId: string | null,
    scope: SpendScope,
    now: number,
    balance: Micros,
  ): Promise<{ hold: PlacedHold | undefined; usage: PoolUsage }> {
    const params = usageParams(holdId, scope, now);
    let row = (await run<UsageRow>({ ...READ_USAGE, values: params })).rows[0]!;
    const hold = row.hold ? placedHold(row.hold) : undefined;
    if (lacksTallies(row)) {
      await run({ ...INIT_TALLIES, values: params.slice(1, 7) });
      row = (await run<UsageRow>({ ...READ_USAGE, values: [null, ...params.slice(1)] })).rows[0]!;
    }
    return { hold, usage: poolUsage(row, balance) };
  }

  /** Runs `work` in one transaction on one connection; rolled back if it throws. */
  private async transaction<T>(work: (run: Run) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work((query) => client.query(query));
      await client.query('COMMIT').catch((error: Error) => {
        throw new CommitInDoubtError(`COMMIT unanswered: ${error.message}`, { cause: error });
      });
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is gone: the server rolled back; the pool must not reuse it.
        broken = rollbackError as Error;
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }
}
