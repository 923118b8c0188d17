/**
 * Counters an operator watches. This is the seam the Prometheus exporter will implement; until
 * then the in-memory counters below are all there is.
 */
export interface Metrics {
  /** A settlement charged more than its hold: a mispriced model or a provider over-reporting. */
  overHoldSettlement(): void;
}

/** Counts in memory, for tests and for whatever reads them in-process. */
export class InMemoryMetrics implements Metrics {
  overHoldSettlements = 0;

  overHoldSettlement(): void {
    this.overHoldSettlements++;
  }
}
