import {
  type Drained,
  fitLease,
  type LeaseParts,
  type LeaseSlice,
  leasable,
  leaseTake,
} from '../domain/lease-fit.js';
import type { Micros } from '../domain/money.js';
import type { SpendScope } from '../domain/spend-scope.js';
import type { PoolPart } from '../domain/waterfall.js';
import type { HoldDecision, HoldToPlace, PlaceOutcome } from '../ports/ledger.js';
import { RECALLED_LEASES, RETURN_LEASE } from './postgres-lease-sql.js';
import type { PlacedHold } from './postgres-ledger-rows.js';

/** How credit leases behave (`cluster.lease_micros`; the rest are this file's defaults). */
export interface LeaseSettings {
  /** The slice each lease reserves, in micro-USD; 0 turns leases off. */
  readonly micros: Micros;
  /** How many instances share the database (`cluster.instances`): the slices they may take together. */
  readonly instances: number;
  /** How often an instance holding leases looks for recalls and idle or outdated leases. */
  readonly pollMs?: number;
  /** A lease without a local hold for this long goes back to its account. */
  readonly idleMs?: number;
  /** How long a refused request waits for other instances' leases to come back before its 402. */
  readonly recallWaitMs?: number;
  /**
   * No local hold once the database has not answered this instance's lease checks for this long:
   * a request admitted from memory while the database is down could not be charged.
   */
  readonly contactMs?: number;
}

/** A lease of this instance, as its memory keeps it. */
export interface Lease {
  readonly id: string;
  readonly key: string;
  readonly scope: SpendScope;
  /** When it was placed (the period and window it counts in). */
  readonly placedAt: number;
  /** performance.now() before it was taken: a heartbeat gap after this makes it unusable. */
  readonly takenAt: number;
  /** What its row reserves, as far as this instance knows (never less than the row). */
  reserved: LeaseParts;
  /** What its local holds in flight reserve. */
  held: LeaseParts;
  holds: number;
  drained: Drained;
  /** False once retired: no more local holds; its row keeps only the holds in flight. */
  open: boolean;
  lastUsedAt: number;
  returning: Promise<void> | undefined;
}

/** A hold decided in memory against a lease. */
export interface LocalHold {
  readonly hold: PlacedHold;
  readonly lease: Lease;
  readonly take: LeaseParts;
}

/** What the database path of placeHold is asked to do besides the hold. */
export interface LeaseRequest {
  /** The scope's open lease to add the slice to, or undefined to take a new one. */
  readonly lease: Lease | undefined;
}

/** What the database path did. */
export interface DirectResult {
  readonly outcome: PlaceOutcome;
  /** Other instances' leases on the account still to give back their unused part (a refusal). */
  readonly recalling: number;
  /** A slice taken: added to `lease`, or a new lease `id`; `grown` false if that lease had closed. */
  readonly slice?: { readonly parts: LeaseSlice; readonly id: string; readonly grown: boolean };
}

export type Run = <R extends import('pg').QueryResultRow>(query: {
  name: string;
  text: string;
  values?: unknown[];
}) => Promise<import('pg').QueryResult<R>>;

export interface LeaseHost {
  readonly instanceId: string;
  /** Whether the instance may vouch for leases taken at `since` (no heartbeat gap from then). */
  vouchesSince(since: number): boolean;
  /** Runs `work` in a transaction of its own, after taking the account's lock. */
  withAccount<T>(accountId: string, work: (run: Run) => Promise<T>): Promise<T>;
  /** A statement outside any transaction. */
  query<R extends import('pg').QueryResultRow>(query: {
    name: string;
    text: string;
    values?: unknown[];
  }): Promise<import('pg').QueryResult<R>>;
  newId(prefix: string): string;
  leasesOpen(count: number): void;
  leaseRecalled(): void;
  error(error: unknown, what: string): void;
}

const NONE: LeaseParts = { primary: 0, prepaid: 0 };

function plus(a: LeaseParts, b: LeaseParts): LeaseParts {
  return { primary: a.primary + b.primary, prepaid: a.prepaid + b.prepaid };
}
function minus(a: LeaseParts, b: LeaseParts): LeaseParts {
  return { primary: a.primary - b.primary, prepaid: a.prepaid - b.prepaid };
}

/** A lease's parts as a hold's, in waterfall order. */
export function leaseParts(scope: SpendScope, parts: LeaseParts): PoolPart[] {
  const out: PoolPart[] = [];
  if (scope.primary?.pool === 'subscription') out.push({ pool: 'subscription', amount: parts.primary });
  out.push({ pool: 'prepaid', amount: parts.prepaid });
  return out;
}

/** When the scope's period or key window ends: a lease must not outlive the windows it counts in. */
function windowEnd(scope: SpendScope): number {
  let end = Number.POSITIVE_INFINITY;
  if (scope.keyLimit) end = Math.min(end, scope.keyLimit.window.until);
  if (scope.primary?.pool === 'subscription' && scope.primary.period)
    end = Math.min(end, scope.primary.period.window.until);
  return end;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * This instance's credit leases: slices of hot scopes' pools reserved in the shared ledger, holds
 * decided against them in memory (domain/lease-fit.ts), and their return: when another instance
 * recalls them, when idle, when their period ends, when the scope may have changed, and at
 * shutdown. The database path and the settlements are the ledger's (postgres-ledger.ts).
 *
 * A lease is taken by the database path of a request that finds its scope busy on this instance
 * (another request of the scope in flight) and its room large (domain LEASE_HEADROOM). Requests of
 * the scope that arrive meanwhile wait for it, then try it.
 */
export class LeaseBook {
  private readonly current = new Map<string, Lease>();
  /** Every lease whose row may still exist, by id. */
  private readonly rows = new Map<string, Lease>();
  private readonly taking = new Map<string, Promise<unknown>>();
  private readonly busy = new Map<string, number>();
  /** The scope key of each hold placed with leasing on, for the busy count. */
  private readonly holdKeys = new Map<string, string>();
  readonly local = new Map<string, LocalHold>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private readonly pollMs: number;
  private readonly idleMs: number;
  private readonly recallWaitMs: number;
  private readonly contactMs: number;
  /** When (performance.now()) a statement sent then last got its answer. */
  private lastContactAt = Number.NEGATIVE_INFINITY;
  private halted = false;

  constructor(
    readonly settings: LeaseSettings,
    private readonly host: LeaseHost,
  ) {
    this.pollMs = settings.pollMs ?? 100;
    this.idleMs = settings.idleMs ?? 1_000;
    this.recallWaitMs = settings.recallWaitMs ?? 2_000;
    this.contactMs = settings.contactMs ?? Math.max(1_000, 5 * this.pollMs);
  }

  /**
   * Places a hold: in memory against the scope's lease when the domain's rule allows it, otherwise
   * through `direct` (the database); a refusal there first gets this instance's own unused slices
   * back, then waits a bounded time for other instances' to come back, before it stands.
   */
  async place(
    hold: HoldToPlace,
    decide: HoldDecision,
    direct: (lease: LeaseRequest | undefined) => Promise<DirectResult>,
  ): Promise<PlaceOutcome> {
    const { scope } = hold;
    const key = leasable(scope) && this.settings.micros > 0 ? JSON.stringify(scope) : undefined;
    let placed = false;
    if (key !== undefined) this.busy.set(key, (this.busy.get(key) ?? 0) + 1);
    try {
      if (key !== undefined) {
        await this.taking.get(key)?.catch(() => undefined);
        if (this.holdLocally(key, hold, decide)) {
          placed = true;
          this.holdKeys.set(hold.id, key);
          return 'placed';
        }
      }
      const taker = key !== undefined && (this.busy.get(key) ?? 0) >= 2 && !this.taking.has(key);
      const deadline = performance.now() + this.recallWaitMs;
      let request: LeaseRequest | undefined = taker ? { lease: this.current.get(key!) } : undefined;
      for (;;) {
        const attempt = direct(request);
        if (request) this.taking.set(key!, attempt);
        let result: DirectResult;
        const sentAt = performance.now();
        try {
          result = await attempt;
          this.lastContactAt = Math.max(this.lastContactAt, sentAt);
        } finally {
          if (request && this.taking.get(key!) === attempt) this.taking.delete(key!);
        }
        if (result.slice && request) this.taken(key!, scope, hold.now, result.slice, request.lease);
        request = undefined;
        if (result.outcome === 'placed') {
          placed = true;
          if (key !== undefined) this.holdKeys.set(hold.id, key);
          return 'placed';
        }
        if (result.outcome !== 'refused') return result.outcome;
        if (performance.now() >= deadline) return 'refused';
        // This instance's own slices on the account first, and any of them on their way back.
        const own = [...this.rows.values()].filter(
          (lease) => lease.scope.accountId === scope.accountId && (lease.open || lease.returning),
        );
        if (own.length > 0) {
          await Promise.all(own.map((lease) => (lease.open ? this.returnLease(lease) : lease.returning)));
          continue;
        }
        if (result.recalling === 0) return 'refused';
        await sleep(Math.max(5, Math.floor(this.pollMs / 4)));
      }
    } finally {
      if (!placed && key !== undefined) this.unbusy(key);
    }
  }

  /** A hold placed through `place` has closed (settled or released); once per hold. */
  ended(holdId: string): void {
    const key = this.holdKeys.get(holdId);
    this.holdKeys.delete(holdId);
    if (key !== undefined) this.unbusy(key);
  }

  /**
   * A local hold whose closing is in doubt (its first try may have committed): it is forgotten and
   * its lease goes back, which returns to the account whatever the row still reserves for it.
   */
  abandoned(local: LocalHold): void {
    void this.returnLease(this.unhold(local));
  }

  /**
   * A local hold's settlement or release committed: its lease shrank by what it held. `state` is the
   * lease's state as the row said (undefined: the sweeper had returned it).
   */
  closedLocally(local: LocalHold, state: string | undefined): void {
    const lease = this.unhold(local);
    if (state === undefined) {
      this.forget(lease);
      return;
    }
    if (state === 'recalled' || (!lease.open && lease.holds === 0)) void this.returnLease(lease);
  }

  /** Forgets a local hold: its lease no longer counts what it took. */
  private unhold(local: LocalHold): Lease {
    this.local.delete(local.hold.id);
    const { lease } = local;
    lease.held = minus(lease.held, local.take);
    lease.reserved = minus(lease.reserved, local.take);
    lease.holds--;
    return lease;
  }

  /** Gives every lease's unused part back (a plan or key change, shutdown). */
  async returnAll(): Promise<void> {
    await Promise.all([...this.rows.values()].map((lease) => this.returnLease(lease)));
  }

  /** Stops looking at its leases, as a crash would: their rows stay for the sweeper. */
  halt(): void {
    this.halted = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    await this.returnAll();
  }

  /** How many holds were decided against a lease since start (for measurements). */
  heldLocally = 0;

  /** How many leases this instance has rows for (the metric). */
  get count(): number {
    return this.rows.size;
  }

  private holdLocally(key: string, hold: HoldToPlace, decide: HoldDecision): boolean {
    const lease = this.current.get(key);
    if (!lease?.open || !this.host.vouchesSince(lease.takenAt)) return false;
    if (performance.now() - this.lastContactAt > this.contactMs) return false;
    const free = minus(lease.reserved, lease.held);
    const parts = fitLease(hold.scope, free, lease.drained, decide);
    if (!parts) return false;
    const take = leaseTake(parts)!;
    lease.held = plus(lease.held, take);
    lease.holds++;
    this.heldLocally++;
    lease.lastUsedAt = performance.now();
    let amount = 0;
    for (const part of parts) amount += part.amount;
    this.local.set(hold.id, {
      hold: { id: hold.id, scope: hold.scope, parts, amount, placedAt: Math.trunc(hold.now) },
      lease,
      take,
    });
    return true;
  }

  private taken(
    key: string,
    scope: SpendScope,
    now: number,
    slice: NonNullable<DirectResult['slice']>,
    previous: Lease | undefined,
  ): void {
    if (previous && slice.id === previous.id) {
      if (!slice.grown) {
        void this.returnLease(previous);
        return;
      }
      previous.reserved = plus(previous.reserved, slice.parts.parts);
      previous.drained = slice.parts.drained;
      previous.lastUsedAt = performance.now();
      return;
    }
    const lease: Lease = {
      id: slice.id,
      key,
      scope,
      placedAt: Math.trunc(now),
      takenAt: performance.now(),
      reserved: slice.parts.parts,
      held: NONE,
      holds: 0,
      drained: slice.parts.drained,
      open: true,
      lastUsedAt: performance.now(),
      returning: undefined,
    };
    const old = this.current.get(key);
    this.current.set(key, lease);
    this.rows.set(lease.id, lease);
    if (old) void this.returnLease(old);
    this.host.leasesOpen(this.rows.size);
    if (this.halted) return;
    this.timer ??= setInterval(() => this.tick(), this.pollMs);
    this.timer.unref();
  }

  /**
   * Retires the lease (no more local holds) and gives back what its holds in flight do not use;
   * deletes its row once none is in flight. Serialised per lease; errors are logged, and the next
   * tick tries again.
   */
  returnLease(lease: Lease): Promise<void> {
    lease.open = false;
    if (this.current.get(lease.key) === lease) this.current.delete(lease.key);
    const previous = lease.returning ?? Promise.resolve();
    const next = previous
      .then(() => this.giveBack(lease))
      .catch((error) => this.host.error(error, 'lease return'));
    lease.returning = next;
    void next.finally(() => {
      if (lease.returning === next) lease.returning = undefined;
    });
    return next;
  }

  private async giveBack(lease: Lease): Promise<void> {
    if (!this.rows.has(lease.id)) return;
    const deleted = await this.host.withAccount(lease.scope.accountId, async (run) => {
      // Read after the lock: a settlement committed before it may not have shrunk `held` yet,
      // which can only keep too much (the row is never raised), returned when the last hold ends.
      const none = lease.holds === 0;
      await run({
        ...RETURN_LEASE,
        values: [lease.id, none ? 0 : lease.held.prepaid, none ? 0 : lease.held.primary, none],
      });
      return none;
    });
    if (deleted) this.forget(lease);
    else
      lease.reserved = {
        primary: Math.min(lease.reserved.primary, lease.held.primary),
        prepaid: Math.min(lease.reserved.prepaid, lease.held.prepaid),
      };
  }

  private forget(lease: Lease): void {
    lease.open = false;
    if (this.current.get(lease.key) === lease) this.current.delete(lease.key);
    this.rows.delete(lease.id);
    this.host.leasesOpen(this.rows.size);
    if (this.rows.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private unbusy(key: string): void {
    const n = (this.busy.get(key) ?? 1) - 1;
    if (n <= 0) this.busy.delete(key);
    else this.busy.set(key, n);
  }

  private tick(): void {
    this.ticking ??= this.look()
      .catch((error) => this.host.error(error, 'lease check'))
      .finally(() => {
        this.ticking = undefined;
      });
  }

  /** Recalls from other instances, idle and outdated leases, retired ones with nothing in flight. */
  private async look(): Promise<void> {
    if (this.rows.size === 0) return;
    const sentAt = performance.now();
    const { rows } = await this.host.query<{ id: string }>({
      ...RECALLED_LEASES,
      values: [this.host.instanceId],
    });
    this.lastContactAt = Math.max(this.lastContactAt, sentAt);
    for (const row of rows) {
      const lease = this.rows.get(row.id);
      if (lease && !lease.returning) {
        this.host.leaseRecalled();
        void this.returnLease(lease);
      }
    }
    const now = performance.now();
    const wallNow = Date.now();
    for (const lease of this.rows.values()) {
      if (lease.returning) continue;
      const idle = now - lease.lastUsedAt > this.idleMs;
      // A retired lease reserving more than its holds need: a return that failed, tried again.
      const unreturned =
        lease.holds === 0 ||
        lease.reserved.primary > lease.held.primary ||
        lease.reserved.prepaid > lease.held.prepaid;
      if (lease.open ? idle || windowEnd(lease.scope) <= wallNow : unreturned) void this.returnLease(lease);
    }
  }
}
