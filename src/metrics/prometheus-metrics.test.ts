import { describe, expect, it } from 'vitest';
import { PrometheusMetrics } from './prometheus-metrics.js';

function lines(text: string, prefix: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(prefix));
}

describe('the Prometheus exporter', () => {
  it('writes cumulative buckets, a sum and a count for each route', async () => {
    const metrics = new PrometheusMetrics();
    for (const seconds of [0.0005, 0.003, 0.003, 7])
      metrics.requestFinished({ route: '/v1/models', method: 'GET', status: 200, totalSeconds: seconds });
    const text = await metrics.exposition();
    const buckets = lines(text, 'tollgate_request_duration_seconds_bucket{route="/v1/models"');
    expect(buckets[0]).toBe('tollgate_request_duration_seconds_bucket{route="/v1/models",le="0.001"} 1');
    expect(buckets).toContain('tollgate_request_duration_seconds_bucket{route="/v1/models",le="0.005"} 3');
    expect(buckets).toContain('tollgate_request_duration_seconds_bucket{route="/v1/models",le="5"} 3');
    expect(buckets.at(-1)).toBe('tollgate_request_duration_seconds_bucket{route="/v1/models",le="+Inf"} 4');
    expect(lines(text, 'tollgate_request_duration_seconds_sum')[0]).toMatch(/ 7\.0065\d*$/);
    expect(lines(text, 'tollgate_request_duration_seconds_count')).toEqual([
      'tollgate_request_duration_seconds_count{route="/v1/models"} 4',
    ]);
    // No provider was called: nothing is put down as added by Tollgate.
    expect(lines(text, 'tollgate_added_duration_seconds_count')).toEqual([]);
  });

  it('keeps gauges at their last value and counts each hold in flight once', async () => {
    const metrics = new PrometheusMetrics();
    expect(lines(await metrics.exposition(), 'tollgate_leases_open')).toEqual([]);
    metrics.holdsInFlight(1);
    metrics.holdsInFlight(1);
    metrics.holdsInFlight(-1);
    metrics.leasesOpen(3);
    metrics.dependencyUp('redis', true);
    metrics.dependencyUp('redis', false);
    const text = await metrics.exposition();
    expect(lines(text, 'tollgate_holds_in_flight ')).toEqual(['tollgate_holds_in_flight 1']);
    expect(lines(text, 'tollgate_leases_open ')).toEqual(['tollgate_leases_open 3']);
    expect(lines(text, 'tollgate_dependency_up{')).toEqual(['tollgate_dependency_up{dependency="redis"} 0']);
  });

  it('keeps each instance of the exporter apart from the others and from the global registry', async () => {
    const first = new PrometheusMetrics();
    const second = new PrometheusMetrics();
    first.overHoldSettlement();
    expect(first.overHoldSettlements).toBe(1);
    expect(second.overHoldSettlements).toBe(0);
    expect(lines(await second.exposition(), 'tollgate_over_hold_settlements_total ')).toEqual([
      'tollgate_over_hold_settlements_total 0',
    ]);
  });
});
