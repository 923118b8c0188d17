import type { Micros } from '../domain/money.js';
import type { PoolUsage, SpendScope } from '../domain/spend-scope.js';
import type { Pool, PoolPart } from '../domain/waterfall.js';

export interface HoldToPlace {
  readonly id: string;
  readonly requestId: string;
  readonly scope: SpendScope;
  readonly now: number;
}

/**
 * Decides a hold from the scope's usage at the moment of placing it: the parts to reserve in each
 * pool (waterfall order), or undefined to refuse. It runs inside the ledger's atomic step.
 */
export type HoldDecision = (usage: PoolUsage) => readonly PoolPart[] | undefined;

export type PlaceOutcome = 'placed' | 'refused' | 'unknown-account';

/** A hold being settled, as the settlement decision sees it. */
export interface ClosingHold {
  readonly scope: SpendScope;
  /** What the hold reserved in each pool, in waterfall order. */
  readonly parts: readonly PoolPart[];
  readonly amount: Micros;
  /**
   * The scope's usage at this moment, this hold's reservation still counted (undefined if the
   * account is gone). It reads the pools, so it is meant for a charge above the hold only.
   */
  usage(): PoolUsage | undefined;
}

/**
 * Decides what each pool pays of a settlement (domain/split-charge.ts): the held parts' pools in
 * the same order, or, for a hold that drew on no pool, nothing or one prepaid part. It runs inside
 * the ledger's atomic step; the ledger refuses (throws) any other shape, or an amount that is not
 * a whole non-negative number of micro-USD, before changing anything.
 */
export type ChargeDecision = (hold: ClosingHold) => readonly PoolPart[];

export interface Settlement {
  /**
   * False when the hold was no longer open. The charge is collected all the same, from the
   * account's prepaid credit (the pools the hold drew on are no longer known), and recorded.
   */
  readonly holdWasOpen: boolean;
  /**
   * What each pool was charged, in waterfall order: the whole charge, which may be more than the
   * hold (see ChargeDecision).
   */
  readonly charged: readonly PoolPart[];
  /** What the hold had reserved; 0 when the hold was no longer open. */
  readonly heldMicros: Micros;
  /** A retry found that the first try had committed: nothing was written this time (no hold was open). */
  readonly repeated?: boolean;
}

/**
 * How a request ended: `completed` (the provider's whole answer reached the client),
 * `failed_mid_stream` (a stream began but the provider's end never came: charged for what was
 * relayed), `client_closed` (the client went away: charged for what was relayed), or `failed`
 * (nothing was relayed, nothing charged).
 */
export type RequestOutcome = 'completed' | 'failed_mid_stream' | 'client_closed' | 'failed';

/**
 * What a settlement records of its request; the ledger adds the cost, the pools it charged and
 * whether the charge passed the hold.
 */
export type UsageFacts = Omit<UsageRecord, 'costMicros' | 'pools' | 'overHold'>;

/** One request's outcome, written with its settlement or release. */
export interface UsageRecord {
  readonly requestId: string;
  readonly accountId: string;
  readonly keyId: string;
  readonly basePath: string;
  readonly model: string;
  /** The deployment that served (or was last tried): its provider and upstream model name. */
  readonly providerId: string;
  readonly upstreamModel: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** The parts of promptTokens billed at the cache-read and cache-write prices (0 when absent). */
  readonly cacheReadTokens?: number;
  readonly cacheWriteTokens?: number;
  /** `upstream` when the provider reported usage; `estimated` for an interrupted or usage-less response. */
  readonly usageSource: 'upstream' | 'estimated' | 'none';
  readonly outcome: RequestOutcome;
  readonly costMicros: Micros;
  /** Filled in by the ledger at settlement: what each pool paid. */
  readonly pools?: Partial<Record<Pool, Micros>>;
  /**
   * Filled in by the ledger at settlement: the provider reported more than the hold covered, and
   * all of it was charged. A mispriced model or a misbehaving provider shows here first.
   */
  readonly overHold?: boolean;
  readonly status: number;
  readonly latencyMs: number;
  readonly clientIp: string;
  readonly userAgent: string;
  readonly createdAt: number;
}

/**
 * A retry of a settlement or release whose first try met an unreachable database (services/billing/
 * closing-retries.ts): that try may have committed with its answer lost, so the ledger checks
 * before it writes, and closes nothing twice. Only a store shared over the network (PostgreSQL)
 * is ever asked again.
 */
export type Again = 'again';

export type LedgerKind = 'credit' | 'hold' | 'settle' | 'release';

export interface LedgerEntry {
  readonly id: string;
  readonly accountId: string;
  readonly kind: LedgerKind;
  readonly pool: Pool;
  readonly keyId: string | null;
  readonly amount: Micros;
  readonly holdId: string | null;
  readonly note: string | null;
  readonly createdAt: number;
  /** When the request's hold was placed: the period or window its charge counts in. */
  readonly periodAt: number;
}

/**
 * The append-only ledger. Every entry belongs to a pool (prepaid credit, the subscription budget,
 * the Pro chat quota). Prepaid entries are written in the same transaction as the account's
 * balance, so the balance always equals the sum of its prepaid entries; the other pools' spend in a
 * period is the sum of their entries placed in it. A hold subtracts its amount; a settlement
 * subtracts the charge; the release gives the hold back.
 *
 * A hold never takes more than a pool has, but a settlement charges what the provider reported,
 * even above the hold: a pool may then count above its cap for the rest of its period, and the
 * prepaid balance may go below zero. A negative balance is a debt: holds cannot draw on it (there
 * is no room), and the next credits pay it first, since the balance is the sum of the entries.
 * Only a settlement takes a balance below zero.
 */
export interface Ledger {
  /**
   * Prepaid credit not held by a request in flight (nor reserved by an instance's credit lease, on
   * PostgreSQL); undefined for an unknown account.
   */
  available(accountId: string): Promise<Micros | undefined>;
  /** Spend in each pool of the scope now, holds in flight included; undefined for an unknown account. */
  usage(scope: SpendScope, now: number): Promise<PoolUsage | undefined>;
  /** Adds a positive amount of prepaid credit; it pays any debt first. False for an unknown account. */
  credit(entry: {
    id: string;
    accountId: string;
    amount: Micros;
    note: string;
    now: number;
  }): Promise<boolean>;
  /**
   * Atomic: reads the scope's usage, asks `decide`, and reserves what it decided, with nothing able
   * to interleave, so no pool can be promised twice.
   */
  placeHold(hold: HoldToPlace, decide: HoldDecision): Promise<PlaceOutcome>;
  /**
   * Closes the hold: charges each pool what `decide` says (all of the reported cost, which may pass
   * the hold), releases the reservation, and records the usage.
   */
  settle(holdId: string, decide: ChargeDecision, usage: UsageFacts, again?: Again): Promise<Settlement>;
  /** Gives the whole hold back; false if the hold was no longer open. */
  release(holdId: string, usage: UsageRecord | undefined, now: number, again?: Again): Promise<boolean>;
  entries(accountId: string): Promise<LedgerEntry[]>;
}
