import { CATALOG } from '../../exporters/prometheus/catalog.js';

/** The statistics every run of a sampling probe records (details.stats). */
export const RUN_STATISTICS = ['n', 'min', 'p50', 'p90', 'p95', 'p99', 'max', 'mean', 'success_ratio'] as const;

export type Op = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface Threshold {
  /** The key as written, for messages. */
  key: string;
  probe: string;
  /** A run statistic, or the name of a metric the probe records (with or without its family prefix). */
  statistic: string;
  selector: Record<string, string>;
  op: Op;
  /** In base units (seconds, bytes, ratios). */
  value: number;
  /** The limit as written. */
  text: string;
}

const UNITS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
  '%': 0.01,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

const metricNames = Object.keys(CATALOG).map((n) => n.replace(/^e2bbench_/, ''));

/** Whether `statistic` names a metric (`events_per_second` matches e2bbench_cpu_events_per_second). */
export function metricMatches(metricName: string, statistic: string): boolean {
  const short = metricName.replace(/^e2bbench_/, '');
  return short === statistic || short.endsWith(`_${statistic}`);
}

/**
 * Parses one `thresholds` entry: `<probe>.<statistic>{label=value,...}` → `<op> <number><unit?>`.
 * Returns the problem as a string when the key or the value is not understood.
 */
export function parseThreshold(key: string, text: unknown, probes: readonly string[]): Threshold | string {
  const m = /^([^{}]+?)(?:\{([^{}]*)\})?$/.exec(key.trim());
  if (!m) return 'expected <probe>.<statistic>{label=value,...}';
  const probe = [...probes].sort((a, b) => b.length - a.length).find((p) => m[1].startsWith(`${p}.`));
  if (!probe) return `unknown probe in threshold key (known: ${probes.join(', ')})`;
  const statistic = m[1].slice(probe.length + 1);
  if (
    !(RUN_STATISTICS as readonly string[]).includes(statistic) &&
    !metricNames.some((n) => metricMatches(n, statistic))
  )
    return `unknown statistic ${JSON.stringify(statistic)} (a run statistic: ${RUN_STATISTICS.join(', ')}; or a metric name)`;
  const selector: Record<string, string> = {};
  for (const part of (m[2] ?? '').split(',').filter((p) => p.trim())) {
    const kv = /^\s*([a-zA-Z_]\w*)\s*=\s*"?([^"]*)"?\s*$/.exec(part);
    if (!kv) return `bad label selector ${JSON.stringify(part)} (expected label=value)`;
    selector[kv[1]] = kv[2];
  }
  if (typeof text !== 'string') return 'expected a string such as "< 1.5s"';
  const v = /^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*([a-zA-Zµ%]*)(\/s)?\s*$/.exec(text);
  if (!v) return `expected "<op> <number><unit>" such as "< 1.5s" or "> 1000", got ${JSON.stringify(text)}`;
  const unit = v[3].toLowerCase();
  if (unit && UNITS[unit] === undefined)
    return `unknown unit ${JSON.stringify(v[3])} (known: ${Object.keys(UNITS).join(', ')})`;
  return {
    key,
    probe,
    statistic,
    selector,
    op: v[1] as Op,
    value: Number(v[2]) * (unit ? UNITS[unit] : 1),
    text: text.trim(),
  };
}

export function holds(op: Op, measured: number, limit: number): boolean {
  switch (op) {
    case '<':
      return measured < limit;
    case '<=':
      return measured <= limit;
    case '>':
      return measured > limit;
    case '>=':
      return measured >= limit;
    case '==':
      return measured === limit;
    case '!=':
      return measured !== limit;
  }
}
