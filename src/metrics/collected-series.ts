import { Counter, Gauge, type Metric, type Registry } from 'prom-client';

/**
 * Series kept as plain numbers and handed to prom-client only when Prometheus scrapes. prom-client
 * hashes and validates the label object on every `inc()` and `observe()`, about 1 µs each here;
 * a request records several, so the request path only adds to a number found by one Map lookup.
 */
interface Series {
  readonly labels: Record<string, string>;
  value: number;
}

function keyOf(values: readonly string[]): string {
  // \u0001 cannot occur in a route template, a method, a status or a configured id.
  return values.length === 1 ? values[0]! : values.join('\u0001');
}

function labelsOf(names: readonly string[], values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  names.forEach((name, i) => {
    labels[name] = values[i] ?? '';
  });
  return labels;
}

/** A counter by label values, exported as a prom-client Counter (`scale` converts the unit at export). */
export class CollectedCounter {
  private readonly series = new Map<string, Series>();
  private readonly labelNames: readonly string[];

  constructor(
    registry: Registry,
    options: { name: string; help: string; labelNames: readonly string[]; scale?: number },
  ) {
    const series = this.series;
    const scale = options.scale ?? 1;
    this.labelNames = options.labelNames;
    new Counter({
      name: options.name,
      help: options.help,
      labelNames: [...options.labelNames],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of series.values()) this.inc(s.labels, s.value * scale);
      },
    });
  }

  add(values: readonly string[], amount = 1): void {
    const key = keyOf(values);
    const found = this.series.get(key);
    if (found) found.value += amount;
    else this.series.set(key, { labels: labelsOf(this.labelNames, values), value: amount });
  }

  /** The current value, for tests and in-process readers. */
  valueOf(values: readonly string[]): number {
    return this.series.get(keyOf(values))?.value ?? 0;
  }
}

/** A gauge by label values, exported as a prom-client Gauge. */
export class CollectedGauge {
  private readonly series = new Map<string, Series>();
  private readonly labelNames: readonly string[];

  constructor(registry: Registry, options: { name: string; help: string; labelNames?: readonly string[] }) {
    const series = this.series;
    this.labelNames = options.labelNames ?? [];
    new Gauge({
      name: options.name,
      help: options.help,
      labelNames: [...this.labelNames],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of series.values()) this.set(s.labels, s.value);
      },
    });
  }

  set(values: readonly string[], value: number): void {
    const key = keyOf(values);
    const found = this.series.get(key);
    if (found) found.value = value;
    else this.series.set(key, { labels: labelsOf(this.labelNames, values), value });
  }

  add(values: readonly string[], delta: number): void {
    const found = this.series.get(keyOf(values));
    this.set(values, (found?.value ?? 0) + delta);
  }

  valueOf(values: readonly string[]): number | undefined {
    return this.series.get(keyOf(values))?.value;
  }
}

interface HistogramSeries {
  readonly labels: Record<string, string>;
  /** Observations per bucket, not cumulative (made cumulative at export); the last is +Inf. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/**
 * A histogram by label values. prom-client's Histogram has no way to load counts kept elsewhere,
 * so this one implements the metric interface its Registry formats (`name`, `get()`).
 */
export class CollectedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries>();
  private readonly labelNames: readonly string[];
  private readonly buckets: readonly number[];

  constructor(
    registry: Registry,
    options: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[] },
  ) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    this.buckets = options.buckets;
    // The Registry reads only name, help, type, aggregator and get() of what it is given.
    registry.registerMetric(this as unknown as Metric);
  }

  observe(values: readonly string[], seconds: number): void {
    const key = keyOf(values);
    let found = this.series.get(key);
    if (!found) {
      found = {
        labels: labelsOf(this.labelNames, values),
        counts: new Array<number>(this.buckets.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      this.series.set(key, found);
    }
    let i = 0;
    while (i < this.buckets.length && seconds > this.buckets[i]!) i++;
    found.counts[i]!++;
    found.sum += seconds;
    found.count++;
  }

  countOf(values: readonly string[]): number {
    return this.series.get(keyOf(values))?.count ?? 0;
  }

  async get() {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
