import type { Database as BetterSqlite, Statement } from 'better-sqlite3';
import type { Micros } from '../domain/money.js';
import type { PoolUsage, SpendScope } from '../domain/spend-scope.js';
import type { Pool, PoolPart } from '../domain/waterfall.js';
import { PeriodTally, RollingTally } from './spend-tallies.js';

function partOf(parts: readonly PoolPart[], pool: Pool): Micros | undefined {
  let amount: Micros | undefined;
  for (const part of parts) if (part.pool === pool) amount = (amount ?? 0) + part.amount;
  return amount;
}

/**
 * The spend of the pools that reset (subscription budget, Pro chat quota, key limits), kept in
 * memory and loaded from the ledger's settled entries on first use. A charge counts in the period
 * its hold was placed in, so a request in flight across a boundary is paid by the period that
 * reserved it and the new period starts whole.
 */
/** A hold in flight, as the ledger keeps it. */
export interface HeldRequest {
  readonly scope: SpendScope;
  readonly parts: readonly PoolPart[];
  readonly amount: Micros;
  readonly placedAt: number;
}

export class SqlitePoolSpend {
  private readonly keys = new PeriodTally();
  private readonly subscriptions = new PeriodTally();
  private readonly agents = new RollingTally();
  private readonly keySpent: Statement<[string, string, number, number]>;
  private readonly subscriptionSpent: Statement<[string, number, number]>;
  private readonly agentSpend: Statement<[string, number]>;

  constructor(
    db: BetterSqlite,
    /** Commits whatever is queued, so that a load reads every settled request. */
    private readonly beforeLoad: () => void,
    /** The holds in flight, whose reservations a freshly loaded figure must include. */
    private readonly inFlight: () => Iterable<HeldRequest>,
  ) {
    this.keySpent = db
      .prepare(
        `SELECT COALESCE(-SUM(amount_micros), 0) FROM ledger_entries
          WHERE account_id = ? AND key_id = ? AND kind = 'settle' AND period_at >= ? AND period_at < ?`,
      )
      .pluck();
    this.subscriptionSpent = db
      .prepare(
        `SELECT COALESCE(-SUM(amount_micros), 0) FROM ledger_entries
          WHERE account_id = ? AND pool = 'subscription' AND kind = 'settle' AND period_at >= ? AND period_at < ?`,
      )
      .pluck();
    this.agentSpend = db.prepare(
      `SELECT period_at AS at, -amount_micros AS usd FROM ledger_entries
        WHERE account_id = ? AND pool = 'agent_quota' AND kind = 'settle' AND period_at > ?
        ORDER BY period_at`,
    );
  }

  usage(scope: SpendScope, now: number, prepaidAvailable: Micros): PoolUsage {
    const { accountId, keyId, keyLimit, primary } = scope;
    const keySpent = keyLimit
      ? this.keys.used(keyId, keyLimit.window, () => {
          const { from, until } = keyLimit.window;
          this.beforeLoad();
          const settled = Number(this.keySpent.get(accountId, keyId, from, until));
          return settled + this.held(from, until, (h) => (h.scope.keyId === keyId ? h.amount : 0));
        })
      : 0;
    let subscriptionSpent = 0;
    if (primary?.pool === 'subscription' && primary.period) {
      const { from, until } = primary.period.window;
      subscriptionSpent = this.subscriptions.used(accountId, primary.period.window, () => {
        this.beforeLoad();
        const settled = Number(this.subscriptionSpent.get(accountId, from, until));
        return (
          settled +
          this.held(from, until, (h) =>
            h.scope.accountId === accountId ? (partOf(h.parts, 'subscription') ?? 0) : 0,
          )
        );
      });
    }
    const limits = primary?.pool === 'agent_quota' ? (primary.limits ?? []) : [];
    const agentWindows =
      limits.length === 0
        ? []
        : this.agents.windows(
            accountId,
            now,
            limits.map((l) => l.windowMs),
            (since) => {
              this.beforeLoad();
              return this.agentSpend.all(accountId, since) as { at: number; usd: number }[];
            },
          );
    // One literal rather than the caller spreading this into another: `{ a, ...b }` takes V8's slow
    // runtime path (measured 0.4–3 µs on Node 20, against nanoseconds for a literal).
    return { prepaidAvailable, keySpent, subscriptionSpent, agentWindows };
  }

  /** Called right after usage() for the same scope, in the same step: the tallies are loaded. */
  reserve(scope: SpendScope, placedAt: number, parts: readonly PoolPart[], amount: Micros): void {
    this.move(scope, placedAt, parts, amount);
    const agent = partOf(parts, 'agent_quota');
    if (agent !== undefined) this.agents.hold(scope.accountId, agent);
  }

  settle(
    scope: SpendScope,
    placedAt: number,
    held: readonly PoolPart[],
    amount: Micros,
    charged: readonly PoolPart[],
  ): void {
    let total = 0;
    for (const part of charged) total += part.amount;
    this.move(scope, placedAt, charged, total);
    this.move(scope, placedAt, held, amount, -1);
    const agent = partOf(held, 'agent_quota');
    if (agent !== undefined) {
      this.agents.close(scope.accountId, agent, { at: placedAt, usd: partOf(charged, 'agent_quota') ?? 0 });
    }
  }

  release(scope: SpendScope, placedAt: number, held: readonly PoolPart[], amount: Micros): void {
    this.move(scope, placedAt, held, amount, -1);
    const agent = partOf(held, 'agent_quota');
    if (agent !== undefined) this.agents.close(scope.accountId, agent, undefined);
  }

  /**
   * Adds (or with sign -1 takes back) parts to the fixed-period tallies. Every hold counts against
   * its key's figure, limited or not: the key's limit may be set or changed while it is in flight.
   */
  private move(scope: SpendScope, at: number, parts: readonly PoolPart[], amount: Micros, sign = 1): void {
    this.keys.add(scope.keyId, at, sign * amount);
    const subscription = partOf(parts, 'subscription');
    if (subscription !== undefined) this.subscriptions.add(scope.accountId, at, sign * subscription);
  }

  /** What the holds in flight placed in [from, until) reserve, as `amountOf` measures each. */
  private held(from: number, until: number, amountOf: (hold: HeldRequest) => Micros): Micros {
    let total = 0;
    for (const hold of this.inFlight()) {
      if (hold.placedAt >= from && hold.placedAt < until) total += amountOf(hold);
    }
    return total;
  }
}
