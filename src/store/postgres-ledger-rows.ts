import type { Micros } from '../domain/money.js';
import type { PoolUsage, SpendScope } from '../domain/spend-scope.js';
import type { Pool, PoolPart } from '../domain/waterfall.js';
import type { UsageFacts } from '../ports/ledger.js';
import { ENTRY_ARRAYS, USAGE_VALUES } from './postgres-ledger-sql.js';
import { integer } from './row-values.js';
import { usageRow } from './usage-row.js';

/** A hold in flight as the PostgreSQL ledger reads it back. */
export interface PlacedHold {
  readonly id: string;
  readonly scope: SpendScope;
  readonly parts: readonly PoolPart[];
  readonly amount: Micros;
  readonly placedAt: number;
  /** A credit lease's row (postgres-leases.ts): returning it writes no entry and no record. */
  readonly lease?: boolean;
}

/** READ_USAGE's parameters for a scope at `now`, closing `holdId` if one is given. */
export function usageParams(holdId: string | null, scope: SpendScope, now: number): unknown[] {
  const key = scope.keyLimit?.window;
  const subscription = scope.primary?.pool === 'subscription' ? scope.primary.period?.window : undefined;
  const agentWindows =
    scope.primary?.pool === 'agent_quota' ? (scope.primary.limits ?? []).map((l) => l.windowMs) : [];
  return [
    holdId,
    scope.accountId,
    scope.keyId,
    key?.from ?? null,
    key?.until ?? null,
    subscription?.from ?? null,
    subscription?.until ?? null,
    integer(now),
    agentWindows,
  ];
}

export interface UsageRow {
  hold: {
    id: string;
    scope: string;
    parts: string;
    amount_micros: number;
    placed_at: number;
    prepaid_micros: number | null;
    subscription_micros: number | null;
    lease_state: string | null;
  } | null;
  /** LEASE_READ's instead of `hold`: the state of the lease a local hold closes against. */
  lease_state?: string | null;
  held: number | null;
  agent_held: [number, number] | null;
  key_spent: number | null;
  subscription_spent: number | null;
  agent_windows: [number, number, number | null][];
}

/** Whether a tally the scope needs has not been started yet (INIT_TALLIES). */
export function lacksTallies(row: UsageRow): boolean {
  return (
    row.held === null || row.agent_held === null || row.key_spent === null || row.subscription_spent === null
  );
}

export function poolUsage(row: UsageRow, balance: Micros): PoolUsage {
  const [heldUsd, heldRequests] = row.agent_held ?? [0, 0];
  return {
    prepaidAvailable: balance - (row.held ?? 0),
    keySpent: row.key_spent ?? 0,
    subscriptionSpent: row.subscription_spent ?? 0,
    agentWindows: row.agent_windows.map(([usd, requests, oldest]) => ({
      usd: usd + heldUsd,
      requests: requests + heldRequests,
      oldestAt: oldest ?? undefined,
    })),
  };
}

export function placedHold(row: NonNullable<UsageRow['hold']>): PlacedHold {
  if (row.lease_state !== null) {
    // A lease's columns, not its parts (the slice it was taken with), say what it reserves now.
    const scope = JSON.parse(row.scope) as SpendScope;
    const parts: PoolPart[] = [];
    if (scope.primary?.pool === 'subscription')
      parts.push({ pool: 'subscription', amount: row.subscription_micros ?? 0 });
    parts.push({ pool: 'prepaid', amount: row.prepaid_micros ?? 0 });
    return { id: row.id, scope, parts, amount: row.amount_micros, placedAt: row.placed_at, lease: true };
  }
  return {
    id: row.id,
    scope: JSON.parse(row.scope) as SpendScope,
    parts: JSON.parse(row.parts) as PoolPart[],
    amount: row.amount_micros,
    placedAt: row.placed_at,
  };
}

/**
 * A closed hold's entries as CLOSE_HOLD's column arrays: per pool, the hold, the settlement (none
 * when released) and the release, as the SQLite ledger writes them.
 */
export function closingEntries(
  hold: PlacedHold,
  charged: readonly PoolPart[] | undefined,
  closedAt: number,
  newId: (prefix: string) => string,
  note: string | null,
): unknown[][] {
  const columns: unknown[][] = Array.from({ length: ENTRY_ARRAYS }, () => []);
  const push = (kind: string, pool: Pool, amount: Micros, at: number) => {
    const values = [
      newId('led'),
      hold.scope.accountId,
      kind,
      pool,
      amount,
      hold.id,
      hold.scope.keyId,
      note,
      at,
      hold.placedAt,
    ];
    values.forEach((value, i) => {
      columns[i]!.push(value);
    });
  };
  const parts = charged ?? hold.parts;
  parts.forEach((part, i) => {
    const held = hold.parts[i]?.amount ?? 0;
    push('hold', part.pool, -held, hold.placedAt);
    if (charged) push('settle', part.pool, -part.amount, closedAt);
    push('release', part.pool, held, closedAt);
  });
  return columns;
}

/** The usage record's values in CLOSE_HOLD's order, each valid for its column; NULLs for none. */
export function usageValues(
  u: UsageFacts | undefined,
  costMicros: Micros,
  pools: Partial<Record<Pool, Micros>>,
  overHold: boolean,
): unknown[] {
  if (!u) return Array(USAGE_VALUES).fill(null);
  return usageRow(u, costMicros, pools, overHold);
}
