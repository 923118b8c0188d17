import { collectDefaultMetrics, Registry } from 'prom-client';
import type { ChargedUsage, FinishedRequest, Metrics } from '../ports/metrics.js';
import { CollectedCounter, CollectedGauge, CollectedHistogram } from './collected-series.js';

/** From a fast refusal to a long stream: Tollgate's own answers take well under a millisecond. */
const DURATION_BUCKETS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];
/** What Tollgate adds to a provider's time: tens of microseconds when healthy, more under load. */
const ADDED_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/**
 * Node's process metrics (CPU, memory, event loop lag, GC) belong to the process, not to one
 * Tollgate: one registry for all, so that tests creating many servers add no observers each. Their
 * standard names (`process_…`, `nodejs_…`) are kept, so existing Node dashboards read them as is.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * The Prometheus exporter: its own registry (never prom-client's global one), names prefixed
 * `tollgate_`, durations in seconds, counters ending in `_total`. Labels take bounded values only:
 * route templates, methods, statuses, and model and provider ids from the configuration.
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly requests: CollectedCounter;
  private readonly duration: CollectedHistogram;
  private readonly upstreamDuration: CollectedHistogram;
  private readonly addedDuration: CollectedHistogram;
  private readonly tokens: CollectedCounter;
  private readonly cost: CollectedCounter;
  private readonly overHold: CollectedCounter;
  private readonly providerErrors: CollectedCounter;
  private readonly cooldowns: CollectedCounter;
  private readonly cacheLookups: CollectedCounter;
  private readonly holds: CollectedGauge;
  /** Made on the first report: a ledger without credit leases never shows a gauge stuck at 0. */
  private leases: CollectedGauge | undefined;
  private recalls: CollectedCounter | undefined;
  private readonly dependencies: CollectedGauge;
  private readonly unavailable: CollectedCounter;
  /** Made on the first report, like the leases' series: most instances never keep a closing. */
  private closings: CollectedGauge | undefined;
  private closingRetries: CollectedCounter | undefined;

  constructor() {
    const r = this.registry;
    this.requests = new CollectedCounter(r, {
      name: 'tollgate_requests_total',
      help: 'Answered HTTP requests, by route template, method, status, and the model and provider that served them',
      labelNames: ['route', 'method', 'status', 'model', 'provider'],
    });
    this.duration = new CollectedHistogram(r, {
      name: 'tollgate_request_duration_seconds',
      help: 'Time from receiving a request to the last byte of its answer',
      labelNames: ['route'],
      buckets: DURATION_BUCKETS,
    });
    this.upstreamDuration = new CollectedHistogram(r, {
      name: 'tollgate_upstream_duration_seconds',
      help: "Time spent on the provider's side: from the first attempt to the last byte of its answer",
      labelNames: ['provider'],
      buckets: DURATION_BUCKETS,
    });
    this.addedDuration = new CollectedHistogram(r, {
      name: 'tollgate_added_duration_seconds',
      help: 'Time Tollgate added to requests that called a provider: total minus upstream',
      labelNames: ['route'],
      buckets: ADDED_BUCKETS,
    });
    this.tokens = new CollectedCounter(r, {
      name: 'tollgate_tokens_total',
      help: 'Tokens charged, by model, provider and kind (prompt or completion)',
      labelNames: ['model', 'provider', 'kind'],
    });
    this.cost = new CollectedCounter(r, {
      name: 'tollgate_charged_usd_total',
      help: 'US dollars charged to accounts (summed exactly in micro-USD, exported in USD)',
      labelNames: ['model', 'provider'],
      scale: 1e-6,
    });
    this.overHold = new CollectedCounter(r, {
      name: 'tollgate_over_hold_settlements_total',
      help: 'Settlements that charged more than their hold: a mispriced model or a provider over-reporting',
      labelNames: [],
    });
    this.providerErrors = new CollectedCounter(r, {
      name: 'tollgate_provider_errors_total',
      help: 'Failed provider calls, by provider and error code',
      labelNames: ['provider', 'code'],
    });
    this.cooldowns = new CollectedCounter(r, {
      name: 'tollgate_provider_cooldowns_total',
      help: 'Times a deployment was set aside after repeated failures, by provider',
      labelNames: ['provider'],
    });
    this.cacheLookups = new CollectedCounter(r, {
      name: 'tollgate_cache_lookups_total',
      help: 'Lookups in in-process caches, by cache and result (hit or miss)',
      labelNames: ['cache', 'result'],
    });
    this.holds = new CollectedGauge(r, {
      name: 'tollgate_holds_in_flight',
      help: 'Holds placed by this instance and not yet settled or released: billed requests in flight',
    });
    this.dependencies = new CollectedGauge(r, {
      name: 'tollgate_dependency_up',
      help: 'Whether a shared dependency answers (1) or not (0): database, redis',
      labelNames: ['dependency'],
    });
    this.unavailable = new CollectedCounter(r, {
      name: 'tollgate_unavailable_refusals_total',
      help: 'Requests refused with 503 because the database could not be used, by reason (instance_fenced, database_unreachable)',
      labelNames: ['reason'],
    });
    // Present from the start, so that a dashboard shows 0 rather than no data.
    this.holds.set([], 0);
    this.overHold.add([], 0);
  }

  /** Settlements above their hold so far (read by tests and in-process tools). */
  get overHoldSettlements(): number {
    return this.overHold.valueOf([]);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text Prometheus scrapes: Tollgate's series, then the process's. */
  async exposition(): Promise<string> {
    const [own, process] = await Promise.all([this.registry.metrics(), processMetrics().metrics()]);
    return `${own}\n${process}`;
  }

  requestFinished(request: FinishedRequest): void {
    const provider = request.provider ?? '';
    this.requests.add([request.route, request.method, request.status, request.model ?? '', provider]);
    this.duration.observe([request.route], request.totalSeconds);
    if (request.upstreamSeconds === undefined) return;
    this.upstreamDuration.observe([provider], request.upstreamSeconds);
    this.addedDuration.observe([request.route], Math.max(0, request.totalSeconds - request.upstreamSeconds));
  }

  usageCharged(usage: ChargedUsage): void {
    this.tokens.add([usage.model, usage.provider, 'prompt'], usage.promptTokens);
    this.tokens.add([usage.model, usage.provider, 'completion'], usage.completionTokens);
    this.cost.add([usage.model, usage.provider], usage.costMicros);
  }

  overHoldSettlement(): void {
    this.overHold.add([]);
  }

  providerError(provider: string, kind: string): void {
    this.providerErrors.add([provider, kind]);
  }

  providerCooldown(provider: string): void {
    this.cooldowns.add([provider]);
  }

  cacheLookup(cache: string, hit: boolean): void {
    this.cacheLookups.add([cache, hit ? 'hit' : 'miss']);
  }

  holdsInFlight(delta: number): void {
    this.holds.add([], delta);
  }

  leasesOpen(count: number): void {
    this.leases ??= new CollectedGauge(this.registry, {
      name: 'tollgate_leases_open',
      help: 'Credit leases this instance holds on shared accounts',
    });
    this.leases.set([], count);
  }

  leaseRecalled(): void {
    this.recalls ??= new CollectedCounter(this.registry, {
      name: 'tollgate_lease_recalls_total',
      help: 'Credit leases this instance gave back because another instance needed the room',
      labelNames: [],
    });
    this.recalls.add([], 1);
  }

  dependencyUp(dependency: string, up: boolean): void {
    this.dependencies.set([dependency], up ? 1 : 0);
  }

  unavailableRefusal(reason: string): void {
    this.unavailable.add([reason]);
  }

  closingsWaiting(count: number): void {
    this.closings ??= new CollectedGauge(this.registry, {
      name: 'tollgate_closings_waiting',
      help: 'Settlements and releases kept in memory for a retry because the database could not be reached',
    });
    this.closings.set([], count);
  }

  closingRetried(outcome: string): void {
    this.closingRetries ??= new CollectedCounter(this.registry, {
      name: 'tollgate_closing_retries_total',
      help: 'Kept settlements and releases that ended: closed, repeated (the first try had committed), or dropped',
      labelNames: ['outcome'],
    });
    this.closingRetries.add([outcome], 1);
  }
}
