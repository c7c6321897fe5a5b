import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  type OpenMetricsContentType,
  type PrometheusContentType,
} from 'prom-client';
import { CATALOG, labelNamesOf, SUBJECT_LABELS, type MetricDef, type MetricName } from './catalog.js';

export type Labels = Record<string, string>;

/** Log-spaced latency buckets, ~5 ms … 120 s. */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * Start and phase buckets: 10% apart (rounded to 4 significant digits) from 20 ms to 10 s, where
 * starts live, so histogram_quantile moves with a 10% regression; coarse above. 70 buckets.
 */
export const START_BUCKETS = [
  ...Array.from({ length: 66 }, (_, k) => Number((0.02 * 1.1 ** k).toPrecision(4))),
  10,
  30,
  60,
  120,
];

type AnyMetric = Gauge<string> | Histogram<string> | Counter<string>;

/** A metric's label names, worked out once: checks run on every observation. */
interface LabelSpec {
  names: readonly string[];
  known: ReadonlySet<string>;
  optional: ReadonlySet<string>;
  /** A target's series carry no host, the machine's carry no target unless placed under one. */
  subject: boolean;
}

function labelSpec(name: MetricName, def: MetricDef): LabelSpec {
  const names = labelNamesOf(name);
  const subject = def.perTarget !== false;
  return {
    names,
    known: new Set(names),
    optional: new Set([...(def.optional ?? []), ...(subject ? SUBJECT_LABELS : [])]),
    subject,
  };
}

/**
 * The exporter's prom-client registry. One OpenMetrics registry (exemplars need it) plus a
 * Prometheus-text view of the same metric objects for scrapers that do not ask for OpenMetrics.
 * It remembers every label set it has written so that series of removed targets can be dropped.
 */
export class MetricsRegistry {
  readonly openMetrics = new Registry<OpenMetricsContentType>();
  readonly text = new Registry<PrometheusContentType>();
  private readonly metrics = new Map<MetricName, AnyMetric>();
  private readonly specs = new Map<MetricName, LabelSpec>();
  private readonly series = new Map<MetricName, Map<string, { labels: Labels; owner?: string }>>();

  /** `buckets` (the config's histogram_buckets) replaces the defaults of every histogram. */
  constructor(buckets?: number[]) {
    this.openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    this.text.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
    for (const [name, def] of Object.entries(CATALOG) as [MetricName, MetricDef][]) {
      this.specs.set(name, labelSpec(name, def));
      const common = {
        name,
        help: def.help,
        labelNames: labelNamesOf(name),
        registers: [this.openMetrics] as Registry<OpenMetricsContentType>[],
      };
      const metric: AnyMetric =
        def.kind === 'gauge'
          ? new Gauge(common)
          : def.kind === 'counter'
            ? new Counter(common)
            : new Histogram({
                ...common,
                buckets: buckets ?? (def.fineBuckets ? START_BUCKETS : DEFAULT_BUCKETS),
                enableExemplars: true,
              });
      this.text.registerMetric(metric);
      this.metrics.set(name, metric);
    }
  }

  private remember(name: MetricName, labels: Labels, owner?: string): void {
    let m = this.series.get(name);
    if (!m) this.series.set(name, (m = new Map()));
    const key = JSON.stringify(labels);
    // Written once per label set and owner: most writes repeat a series that is already known.
    const known = m.get(key);
    if (!known || known.owner !== owner) m.set(key, { labels, owner });
  }

  /** The labels in catalog order, or an error naming the missing, unexpected or absent subject label. */
  private check(name: MetricName, labels: Labels): Labels {
    const spec = this.specs.get(name)!;
    const out: Labels = {};
    for (const l of spec.names) {
      const v = labels[l];
      if (v !== undefined) out[l] = v;
      else if (!spec.optional.has(l)) throw new Error(`metric ${name}: missing label ${l}`);
    }
    if (spec.subject && SUBJECT_LABELS.every((l) => labels[l] === undefined))
      throw new Error(`metric ${name}: needs a target or a host label`);
    for (const l in labels) if (!spec.known.has(l)) throw new Error(`metric ${name}: unexpected label ${l}`);
    return out;
  }

  /** `owner` (e.g. "probe/target") lets removeOwner drop a probe's series when it is unconfigured. */
  set(name: MetricName, labels: Labels, value: number, owner?: string): void {
    const l = this.check(name, labels);
    (this.metrics.get(name) as Gauge<string>).set(l, value);
    this.remember(name, l, owner);
  }

  inc(name: MetricName, labels: Labels, by = 1, owner?: string): void {
    const l = this.check(name, labels);
    const m = this.metrics.get(name);
    if (m instanceof Counter) m.inc(l, by);
    else (m as Gauge<string>).inc(l, by);
    this.remember(name, l, owner);
  }

  observe(name: MetricName, labels: Labels, value: number, traceId?: string, owner?: string): void {
    const l = this.check(name, labels);
    const m = this.metrics.get(name) as Histogram<string>;
    if (traceId) m.observe({ labels: l, value, exemplarLabels: { trace_id: traceId } });
    // Object form: with exemplars enabled prom-client reads the value from it.
    else m.observe({ labels: l, value });
    this.remember(name, l, owner);
  }

  kind(name: string): MetricDef['kind'] | undefined {
    return (CATALOG as Record<string, MetricDef>)[name]?.kind;
  }

  private removeWhere(pred: (labels: Labels, owner?: string) => boolean): number {
    let removed = 0;
    for (const [name, sets] of this.series) {
      const metric = this.metrics.get(name)!;
      for (const [key, { labels, owner }] of sets) {
        if (pred(labels, owner)) {
          metric.remove(labels);
          sets.delete(key);
          removed++;
        }
      }
    }
    return removed;
  }

  /** Drop every series whose labels match all of `match` (e.g. a removed target). */
  removeMatching(match: Labels): number {
    return this.removeWhere((labels) => Object.entries(match).every(([k, v]) => labels[k] === v));
  }

  /** Drop every series written on behalf of `owner`. */
  removeOwner(owner: string): number {
    return this.removeWhere((_l, o) => o === owner);
  }

  /** Label sets currently exposed for a family (for tests and the status page). */
  seriesOf(name: MetricName): Labels[] {
    return [...(this.series.get(name)?.values() ?? [])].map((s) => s.labels);
  }

  async render(openMetrics: boolean): Promise<{ contentType: string; body: string }> {
    const reg = openMetrics ? this.openMetrics : this.text;
    const body = await reg.metrics();
    // prom-client's OpenMetrics rendering strips "_total" from counter names in place; the text
    // registry shares these objects, so give them their names back.
    for (const [name, m] of this.metrics) if (m instanceof Counter) (m as unknown as { name: string }).name = name;
    return { contentType: reg.contentType, body };
  }
}
