import type { Micros } from '../domain/money.js';
import type { Window } from '../domain/periods.js';
import type { WindowUse } from '../domain/spend-scope.js';

/**
 * In-memory spend of the pools that reset, kept beside the ledger so that a request's check and
 * hold need no database read. Each figure includes the holds of requests in flight; it is loaded
 * from the ledger the first time it is needed and kept up to date by every hold, settlement and
 * release of this process (the CLI never spends, so no other process changes it).
 */

/**
 * Spend per scope in its current fixed period: a subscription's month, a key limit's day or week.
 * Changes are filed by when their hold was placed, so a request held in one period and settled in
 * the next moves only the figure of the period that held it.
 */
export class PeriodTally {
  private readonly current = new Map<string, { window: Window; used: Micros }>();

  /**
   * `load` must give everything the ledger knows for the window: settled spend plus the holds in
   * flight placed in it. It runs when the scope's window changes: a new period, or a limit whose
   * period the operator changed (a lifetime limit starts long before today's day period did).
   */
  used(scope: string, window: Window, load: () => Micros): Micros {
    const entry = this.current.get(scope);
    if (entry && entry.window.from === window.from && entry.window.until === window.until) return entry.used;
    const used = load();
    this.current.set(scope, { window, used });
    return used;
  }

  /** Moves the figure by a hold, settlement or release whose hold was placed at `at`. */
  add(scope: string, at: number, delta: Micros): void {
    const entry = this.current.get(scope);
    if (entry && at >= entry.window.from && at < entry.window.until) entry.used += delta;
  }
}

interface Spend {
  readonly at: number;
  readonly usd: Micros;
}

interface AgentAccount {
  /** Settled agent spend since `since`, one entry per request, oldest first. */
  events: Spend[];
  since: number;
  heldUsd: Micros;
  heldRequests: number;
}

/**
 * Pro chat quota spend per account over rolling windows. Each settled request is kept with its time
 * for the longest window, so that a window's figure is exact at every moment, not bucketed. Holds
 * in flight count in every window: they were placed just now.
 */
export class RollingTally {
  private readonly accounts = new Map<string, AgentAccount>();

  windows(
    accountId: string,
    now: number,
    windowsMs: readonly number[],
    load: (since: number) => Spend[],
  ): WindowUse[] {
    const longest = Math.max(0, ...windowsMs);
    const account = this.account(accountId, now - longest, load);
    let drop = 0;
    while (drop < account.events.length && account.events[drop]!.at <= now - longest) drop++;
    if (drop > 0) account.events.splice(0, drop);
    account.since = Math.max(account.since, now - longest);
    return windowsMs.map((windowMs) => {
      let usd = account.heldUsd;
      let requests = account.heldRequests;
      let oldestAt: number | undefined;
      for (const spend of account.events) {
        if (spend.at <= now - windowMs) continue;
        usd += spend.usd;
        requests++;
        oldestAt ??= spend.at;
      }
      return { usd, requests, oldestAt };
    });
  }

  hold(accountId: string, usd: Micros): void {
    const account = this.accounts.get(accountId);
    if (!account) return;
    account.heldUsd += usd;
    account.heldRequests++;
  }

  /** Ends a hold; a settled request becomes spend at the time it was held (its window). */
  close(accountId: string, held: Micros, settled: Spend | undefined): void {
    const account = this.accounts.get(accountId);
    if (!account) return;
    account.heldUsd -= held;
    account.heldRequests--;
    if (!settled || settled.at <= account.since) return;
    // Requests settle out of order; keep the list sorted by the time they were held.
    let at = account.events.length;
    while (at > 0 && account.events[at - 1]!.at > settled.at) at--;
    account.events.splice(at, 0, settled);
  }

  private account(accountId: string, since: number, load: (since: number) => Spend[]): AgentAccount {
    const known = this.accounts.get(accountId);
    if (known && known.since <= since) return known;
    // First use, or a longer window than loaded so far: read the settled spend again; holds stay.
    const account: AgentAccount = {
      events: load(since),
      since,
      heldUsd: known?.heldUsd ?? 0,
      heldRequests: known?.heldRequests ?? 0,
    };
    this.accounts.set(accountId, account);
    return account;
  }
}
