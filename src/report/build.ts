import type { TargetConfig } from '../config/schema.js';
import { costInputsFromSamples, deriveCosts } from '../cost/index.js';
import { percentileCI } from '../stats/quantile-ci.js';
import { median, summarize } from '../stats/summary.js';
import type { TargetData } from './collect.js';
import {
  type Category,
  type Change,
  type Figure,
  type MachineReport,
  type Report,
  type TargetReport,
} from './model.js';
import { scoreTargets, type ScoreValues } from './score.js';
import { START_PROBES, START_SCORE, START_TYPES } from './specs.js';

export interface BuildOptions {
  since: Date;
  until: Date;
  source: Report['source'];
  weights: Record<Category, number>;
  /** Configured targets: pricing for the cost figures, and targets with no run yet. */
  targets?: readonly TargetConfig[];
  /** The same data for the previous period of the same length, for the change column. */
  previous?: readonly TargetData[];
  now?: Date;
}

const NO_RAW = 'not available from Prometheus (needs raw samples)';

/** Figures of one target: start percentiles with CIs, one median per gauge series, costs. */
export function targetFigures(
  t: TargetData,
  config: TargetConfig | undefined,
  source: Report['source'],
): Record<string, Figure> {
  const out: Record<string, Figure> = {};
  for (const type of START_TYPES) {
    const s = t.starts[type];
    if (!s) continue;
    const key = START_PROBES[type];
    if (s.samples.length) {
      const sum = summarize(s.samples, s.attempted);
      for (const p of [50, 95, 99] as const) {
        if (p === 99 && sum.p99 === undefined) continue;
        const ci = percentileCI(s.samples, p);
        out[`${key}.p${p}`] = {
          value: p === 50 ? sum.p50 : p === 95 ? sum.p95 : sum.p99!,
          unit: 's',
          n: sum.n,
          ci,
          ciNote: ci ? undefined : `too few samples for a 95 % CI: n = ${sum.n}`,
        };
      }
      out[`${key}.success_ratio`] = { value: sum.successRatio, unit: 'ratio', n: s.attempted };
    } else if (s.quantiles) {
      for (const [stat, v] of Object.entries(s.quantiles))
        if (v !== undefined && Number.isFinite(v))
          out[`${key}.${stat}`] = { value: v, unit: 's', n: s.attempted, ciNote: NO_RAW };
      if (s.successRatio !== undefined)
        out[`${key}.success_ratio`] = { value: s.successRatio, unit: 'ratio', n: s.attempted };
    }
  }
  for (const [key, g] of t.gauges) {
    const ci = g.values.length > 1 ? percentileCI(g.values, 50) : undefined;
    out[key] = {
      value: median(g.values),
      unit: g.spec.unit,
      n: g.values.length,
      ci,
      ciNote: ci ? undefined : source === 'prometheus' ? NO_RAW : `too few runs for a 95 % CI: n = ${g.values.length}`,
    };
  }
  const costs = config ? deriveCosts(config, costInputsFromSamples(t.costSamples)) : undefined;
  if (costs) {
    const hour = costs.sandboxHourUsd.list_price ?? costs.sandboxHourUsd.target_utilization;
    if (hour !== undefined) out['cost.sandbox_hour_usd'] = { value: hour, unit: 'USD', n: 1 };
    if (costs.totalMonthlyUsd !== undefined)
      out['cost.monthly_usd'] = { value: costs.totalMonthlyUsd, unit: 'USD', n: 1 };
    for (const [basis, byThreads] of Object.entries(costs.costPerCpuScoreUsd))
      for (const [threads, v] of Object.entries(byThreads ?? {}))
        out[`cost.per_cpu_score_usd{basis=${basis},threads=${threads}}`] = { value: v, unit: 'USD per events/s', n: 1 };
    for (const [startType, v] of Object.entries(costs.costPer1000StartsUsd))
      out[`cost.per_1000_starts_usd{start_type=${startType}}`] = { value: v, unit: 'USD', n: 1 };
  }
  return out;
}

/** The values each score input compares, by series identity. */
function scoreValues(t: TargetData, figures: Record<string, Figure>): ScoreValues {
  const v: ScoreValues = {};
  const put = (category: Category, input: string, identity: string, value: number, better: 'higher' | 'lower') => {
    if (!(value > 0) || !Number.isFinite(value)) return;
    const c = (v[category] ??= {});
    const i = (c[input] ??= { better, values: {} });
    i.values[identity] = value;
  };
  for (const type of START_TYPES) {
    const f = figures[`${START_PROBES[type]}.${START_SCORE[type]}`];
    if (f) put('start', `${type}_${START_SCORE[type]}`, '-', f.value, 'lower');
  }
  for (const g of t.gauges.values())
    if (g.spec.score) put(g.spec.score.category, g.spec.score.input, g.identity, median(g.values), g.spec.better);
  for (const [key, f] of Object.entries(figures)) {
    // As the recording rules score it: the sandbox-hour basis, comparable on every kind of target.
    const m = /^cost\.per_cpu_score_usd\{basis=sandbox_hour,threads=(.+)\}$/.exec(key);
    if (m) put('cost', 'per_cpu_score', `threads=${m[1]}`, f.value, 'lower');
  }
  if (figures['cost.sandbox_hour_usd'])
    put('cost', 'per_sandbox_hour', '-', figures['cost.sandbox_hour_usd'].value, 'lower');
  return v;
}

function changes(
  current: Record<string, Figure>,
  previous: Record<string, Figure> | undefined,
): Record<string, Change> {
  const out: Record<string, Change> = {};
  if (!previous) return out;
  for (const [key, f] of Object.entries(current)) {
    const p = previous[key];
    if (!p || p.value === 0 || !Number.isFinite(p.value)) continue;
    out[key] = {
      previous: p.value,
      ratio: (f.value - p.value) / p.value,
      significant: f.ci !== undefined && (p.value < f.ci.low || p.value > f.ci.high),
    };
  }
  return out;
}

/** The report from what each target measured: figures, the weighted score and ranking, changes. */
export function buildReport(input: readonly TargetData[], o: BuildOptions): Report {
  const data = input.filter((d) => !d.machine);
  const byName = new Map(data.map((d) => [d.name, d]));
  // Configured targets without a run in the period still get a row (every category marked missing).
  for (const t of o.targets ?? [])
    if (!byName.has(t.name))
      byName.set(t.name, {
        name: t.name,
        cloud_provider: t.cloud_provider,
        cloud_region: t.cloud_region,
        starts: {},
        gauges: new Map(),
        costSamples: [],
        runs: { total: 0, failed: 0 },
      });
  const all = [...byName.values()];
  const config = (name: string) => o.targets?.find((t) => t.name === name);
  // A target seen only through host figures placed under it: its cloud is the configured one.
  for (const t of all) {
    const c = config(t.name);
    if (c && t.cloud_provider === 'unknown')
      Object.assign(t, { cloud_provider: c.cloud_provider, cloud_region: c.cloud_region });
  }
  const prev = new Map(
    (o.previous ?? []).filter((d) => !d.machine).map((d) => [d.name, targetFigures(d, config(d.name), o.source)]),
  );
  const figures = all.map((t) => targetFigures(t, config(t.name), o.source));
  const scores = scoreTargets(
    all.map((t, i) => scoreValues(t, figures[i])),
    o.weights,
  );
  const targets: TargetReport[] = all.map((t, i) => ({
    name: t.name,
    cloud_provider: t.cloud_provider,
    cloud_region: t.cloud_region,
    score: scores[i].score,
    rank: scores[i].rank,
    coverage: scores[i].coverage,
    categories: scores[i].categories,
    metrics: figures[i],
    change: changes(figures[i], prev.get(t.name)),
    startSamples: Object.fromEntries(
      START_TYPES.filter((s) => t.starts[s]?.samples.length).map((s) => [s, t.starts[s]!.samples]),
    ),
    runs: t.runs,
    ...(t.hosts?.length ? { hosts: [...t.hosts].sort() } : {}),
  }));
  targets.sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.name.localeCompare(b.name));
  return {
    generatedAt: (o.now ?? new Date()).toISOString(),
    since: o.since.toISOString(),
    until: o.until.toISOString(),
    source: o.source,
    weights: o.weights,
    targets,
    machines: machineReports(input, o),
  };
}

/** Machines under no target: their host figures and change, no score, no cost (nothing to price). */
function machineReports(data: readonly TargetData[], o: BuildOptions): MachineReport[] {
  const prev = new Map(
    (o.previous ?? []).filter((d) => d.machine).map((d) => [d.name, targetFigures(d, undefined, o.source)]),
  );
  return data
    .filter((d) => d.machine)
    .map((d) => {
      const metrics = targetFigures(d, undefined, o.source);
      return {
        host: d.name,
        cloud_provider: d.cloud_provider,
        cloud_region: d.cloud_region,
        instance_type: d.machine!.instance_type,
        metrics,
        change: changes(metrics, prev.get(d.name)),
        runs: d.runs,
      };
    })
    .sort((a, b) => a.host.localeCompare(b.host));
}
