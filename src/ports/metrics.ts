/**
 * What an operator watches. The Prometheus exporter implements it (names, units and labels are its
 * business); services and adapters only say what happened. Every method is cheap and never throws.
 */
export interface Metrics {
  /** A settlement charged more than its hold: a mispriced model or a provider over-reporting. */
  overHoldSettlement(): void;
  /** One answered request. `route` is the route's template (never the raw path). */
  requestFinished(request: FinishedRequest): void;
  /** Tokens and cost of one settled request. */
  usageCharged(usage: ChargedUsage): void;
  /** A provider call that failed (`kind`: an upstream error code such as `upstream_timeout`). */
  providerError(provider: string, kind: string): void;
  /** A deployment put in cooldown after failures. */
  providerCooldown(provider: string): void;
  /** A lookup in an in-process cache (`cache`: `keys`, `accounts`, …). */
  cacheLookup(cache: string, hit: boolean): void;
  /** Holds (requests in flight) and credit leases currently open in this instance. */
  holdsInFlight(delta: number): void;
  leasesOpen(count: number): void;
  /** This instance gave a credit lease back because another instance needed the room. */
  leaseRecalled(): void;
  /** Whether a shared dependency answers (`database`, `redis`). */
  dependencyUp(dependency: string, up: boolean): void;
  /** A request refused with 503: the database could not be used (`reason`: ports/unavailable.ts). */
  unavailableRefusal(reason: string): void;
  /** Settlements and releases kept for a retry because the database could not be reached. */
  closingsWaiting(count: number): void;
  /** One kept closing's end (`outcome`: `closed`, `repeated` when its first try had committed, `dropped`). */
  closingRetried(outcome: string): void;
}

export interface FinishedRequest {
  readonly route: string;
  readonly method: string;
  readonly status: number;
  /** The configured model and provider ids, never what a client sent (labels must stay bounded). */
  readonly model?: string | undefined;
  readonly provider?: string | undefined;
  readonly totalSeconds: number;
  /** Time spent waiting for the provider (first attempt to last byte); undefined when none was called. */
  readonly upstreamSeconds?: number | undefined;
}

export interface ChargedUsage {
  readonly model: string;
  readonly provider: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costMicros: number;
}

/** Counts in memory, for tests and for whatever reads them in-process. */
export class InMemoryMetrics implements Metrics {
  overHoldSettlements = 0;
  readonly requests: FinishedRequest[] = [];
  readonly charged: ChargedUsage[] = [];
  readonly providerErrors: { provider: string; kind: string }[] = [];
  readonly cooldowns: string[] = [];
  readonly cacheLookups = { hits: 0, misses: 0 };
  holds = 0;
  leases = 0;
  leaseRecalls = 0;
  readonly dependencies = new Map<string, boolean>();
  readonly unavailableRefusals: string[] = [];
  closings = 0;
  readonly closingOutcomes: string[] = [];

  overHoldSettlement(): void {
    this.overHoldSettlements++;
  }
  requestFinished(request: FinishedRequest): void {
    // Bounded: an in-memory recorder must not grow for the life of a server.
    if (this.requests.length < 10_000) this.requests.push(request);
  }
  usageCharged(usage: ChargedUsage): void {
    if (this.charged.length < 10_000) this.charged.push(usage);
  }
  providerError(provider: string, kind: string): void {
    if (this.providerErrors.length < 10_000) this.providerErrors.push({ provider, kind });
  }
  providerCooldown(provider: string): void {
    if (this.cooldowns.length < 10_000) this.cooldowns.push(provider);
  }
  cacheLookup(_cache: string, hit: boolean): void {
    if (hit) this.cacheLookups.hits++;
    else this.cacheLookups.misses++;
  }
  holdsInFlight(delta: number): void {
    this.holds += delta;
  }
  leasesOpen(count: number): void {
    this.leases = count;
  }
  leaseRecalled(): void {
    this.leaseRecalls++;
  }
  dependencyUp(dependency: string, up: boolean): void {
    this.dependencies.set(dependency, up);
  }
  unavailableRefusal(reason: string): void {
    if (this.unavailableRefusals.length < 10_000) this.unavailableRefusals.push(reason);
  }
  closingsWaiting(count: number): void {
    this.closings = count;
  }
  closingRetried(outcome: string): void {
    if (this.closingOutcomes.length < 10_000) this.closingOutcomes.push(outcome);
  }
}
