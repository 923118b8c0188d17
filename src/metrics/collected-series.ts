import { Counter, Gauge, type Metric, type Registry } from 'prom-client';

/**
 * Series kept as plain numbers and handed to prom-client only when Prometheus scrapes. prom-client
 * hashes and validates the label object on every `inc()` and `observe()`, about 1 µs each here;
 * a request records several, so the request path only adds to a number found by one Map lookup
 * per label (nested Maps: no key string is built per call).
 */
export type LabelValue = string | number;

interface Series {
  readonly labels: Record<string, string>;
}

/** Series by label values, created on first sight; `make` receives the labels as strings. */
class SeriesTree<S extends Series> {
  private readonly root = new Map<LabelValue, unknown>();
  private readonly all: S[] = [];

  constructor(
    private readonly labelNames: readonly string[],
    private readonly make: (labels: Record<string, string>) => S,
  ) {}

  get(values: readonly LabelValue[]): S {
    let node = this.root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = node.get(values[i]!) as Map<LabelValue, unknown> | undefined;
      if (!next) {
        next = new Map();
        node.set(values[i]!, next);
      }
      node = next;
    }
    const leafKey = last < 0 ? '' : values[last]!;
    let leaf = node.get(leafKey) as S | undefined;
    if (!leaf) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => {
        labels[name] = String(values[i] ?? '');
      });
      leaf = this.make(labels);
      node.set(leafKey, leaf);
      this.all.push(leaf);
    }
    return leaf;
  }

  find(values: readonly LabelValue[]): S | undefined {
    let node: unknown = this.root;
    for (const value of values.length === 0 ? [''] : values) {
      node = (node as Map<LabelValue, unknown>).get(value);
      if (node === undefined) return undefined;
    }
    return node as S;
  }

  values(): readonly S[] {
    return this.all;
  }
}

interface NumberSeries extends Series {
  value: number;
}

/** A counter by label values, exported as a prom-client Counter (`scale` converts the unit at export). */
export class CollectedCounter {
  private readonly series: SeriesTree<NumberSeries>;

  constructor(
    registry: Registry,
    options: { name: string; help: string; labelNames: readonly string[]; scale?: number },
  ) {
    const series = new SeriesTree<NumberSeries>(options.labelNames, (labels) => ({ labels, value: 0 }));
    this.series = series;
    const scale = options.scale ?? 1;
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

  add(values: readonly LabelValue[], amount = 1): void {
    this.series.get(values).value += amount;
  }

  /** The current value, for tests and in-process readers. */
  valueOf(values: readonly LabelValue[]): number {
    return this.series.find(values)?.value ?? 0;
  }
}

/** A gauge by label values, exported as a prom-client Gauge. */
export class CollectedGauge {
  private readonly series: SeriesTree<NumberSeries>;

  constructor(registry: Registry, options: { name: string; help: string; labelNames?: readonly string[] }) {
    const labelNames = options.labelNames ?? [];
    const series = new SeriesTree<NumberSeries>(labelNames, (labels) => ({ labels, value: 0 }));
    this.series = series;
    new Gauge({
      name: options.name,
      help: options.help,
      labelNames: [...labelNames],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of series.values()) this.set(s.labels, s.value);
      },
    });
  }

  set(values: readonly LabelValue[], value: number): void {
    this.series.get(values).value = value;
  }

  add(values: readonly LabelValue[], delta: number): void {
    this.series.get(values).value += delta;
  }

  valueOf(values: readonly LabelValue[]): number | undefined {
    return this.series.find(values)?.value;
  }
}

interface HistogramSeries extends Series {
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
  private readonly series: SeriesTree<HistogramSeries>;
  private readonly buckets: readonly number[];

  constructor(
    registry: Registry,
    options: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[] },
  ) {
    this.name = options.name;
    this.help = options.help;
    this.buckets = options.buckets;
    const size = options.buckets.length + 1;
    this.series = new SeriesTree<HistogramSeries>(options.labelNames, (labels) => ({
      labels,
      counts: new Array<number>(size).fill(0),
      sum: 0,
      count: 0,
    }));
    // The Registry reads only name, help, type, aggregator and get() of what it is given.
    registry.registerMetric(this as unknown as Metric);
  }

  observe(values: readonly LabelValue[], seconds: number): void {
    const found = this.series.get(values);
    let i = 0;
    while (i < this.buckets.length && seconds > this.buckets[i]!) i++;
    found.counts[i]!++;
    found.sum += seconds;
    found.count++;
  }

  countOf(values: readonly LabelValue[]): number {
    return this.series.find(values)?.count ?? 0;
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
