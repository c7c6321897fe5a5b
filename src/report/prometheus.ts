import type { RecordedSample } from '../probe/types.js';
import type { TargetConfig } from '../config/schema.js';
import { buildReport } from './build.js';
import { addGauge, emptyTarget, type TargetData } from './collect.js';
import type { Category, Report } from './model.js';
import { GAUGE_SPECS, START_TYPES } from './specs.js';

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A target's series carry `target`; a machine's host series `host`, and `target` only under a `host: self` target. */
const BY_TARGET = 'target, host, cloud_provider, cloud_region';

/** One instant query against the Prometheus HTTP API; errors name the server and the query. */
async function query(base: string, expr: string, at: Date, signal?: AbortSignal): Promise<VectorSample[]> {
  const url = new URL('api/v1/query', base.endsWith('/') ? base : `${base}/`);
  url.searchParams.set('query', expr);
  url.searchParams.set('time', String(at.getTime() / 1000));
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (err) {
    throw new Error(`Prometheus ${base}: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => undefined)) as
    | { status: string; error?: string; data?: { resultType: string; result: VectorSample[] } }
    | undefined;
  if (!res.ok || body?.status !== 'success')
    throw new Error(`Prometheus ${base}: query failed (${res.status}): ${body?.error ?? 'no JSON answer'}\n  ${expr}`);
  return body.data?.resultType === 'vector' ? body.data.result : [];
}

/**
 * What each target measured in the window ending at `at`, from a Prometheus that scrapes (or
 * receives by remote-write) the exporters: start percentiles from the histogram buckets, sample
 * counts, and each gauge series averaged over the window. No raw samples: no CIs.
 */
export async function collectFromPrometheus(
  base: string,
  at: Date,
  windowSeconds: number,
  signal?: AbortSignal,
): Promise<TargetData[]> {
  const w = `[${Math.max(1, Math.round(windowSeconds))}s]`;
  const byTarget = new Map<string, TargetData>();
  // Series of a machine under no target go to that machine; a target's cloud comes from its own
  // series, never from the machine's labels on host figures placed under it.
  const target = (m: Record<string, string>) => {
    const machine = m.target === undefined && m.host !== undefined;
    const key = machine ? `machine/${m.host}` : m.target;
    let t = byTarget.get(key);
    if (!t) {
      t = emptyTarget(machine ? m.host : m.target, 'unknown', 'unknown');
      if (machine) t.machine = { instance_type: 'unknown' };
      byTarget.set(key, t);
    }
    if (t.cloud_provider === 'unknown' && (machine || m.host === undefined))
      Object.assign(t, { cloud_provider: m.cloud_provider ?? 'unknown', cloud_region: m.cloud_region ?? 'unknown' });
    if (!machine && m.host !== undefined && !(t.hosts ??= []).includes(m.host)) t.hosts!.push(m.host);
    return t;
  };
  const num = (s: VectorSample) => Number(s.value[1]);
  const cost: RecordedSample[] = [];

  const buckets = `sum by (${BY_TARGET}, start_type, le) (increase(e2bbench_sandbox_start_seconds_bucket${w}))`;
  for (const [stat, q] of [
    ['p50', 0.5],
    ['p95', 0.95],
    ['p99', 0.99],
  ] as const) {
    for (const s of await query(base, `histogram_quantile(${q}, ${buckets})`, at, signal)) {
      const type = s.metric.start_type as (typeof START_TYPES)[number];
      if (!START_TYPES.includes(type) || !Number.isFinite(num(s))) continue;
      const t = target(s.metric);
      const d = (t.starts[type] ??= { samples: [], attempted: 0, quantiles: {} });
      d.quantiles![stat] = num(s);
      if (stat === 'p50')
        cost.push({
          name: 'e2bbench_sandbox_start_last_seconds',
          labels: { ...s.metric, statistic: 'p50' },
          value: num(s),
        });
    }
  }
  for (const s of await query(
    base,
    `sum by (${BY_TARGET}, start_type) (increase(e2bbench_sandbox_start_seconds_count${w}))`,
    at,
    signal,
  )) {
    const d = target(s.metric).starts[s.metric.start_type as (typeof START_TYPES)[number]];
    if (d) d.attempted = Math.round(num(s));
  }
  for (const s of await query(
    base,
    `max by (${BY_TARGET}, start_type) (avg_over_time(e2bbench_sandbox_start_success_ratio${w}))`,
    at,
    signal,
  )) {
    const d = target(s.metric).starts[s.metric.start_type as (typeof START_TYPES)[number]];
    if (d) d.successRatio = num(s);
  }
  for (const spec of GAUGE_SPECS) {
    const sel = Object.entries(spec.where ?? {})
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',');
    const by = [BY_TARGET, ...spec.by].join(', ');
    for (const s of await query(base, `max by (${by}) (avg_over_time(${spec.metric}{${sel}}${w}))`, at, signal)) {
      addGauge(target(s.metric), spec, s.metric, num(s));
      if (spec.metric === 'e2bbench_cpu_events_per_second')
        cost.push({ name: spec.metric, labels: { ...spec.where, ...s.metric }, value: num(s) });
    }
  }
  for (const s of await query(
    base,
    `max by (${BY_TARGET}) (max_over_time(e2bbench_capacity_max_sandboxes${w}))`,
    at,
    signal,
  ))
    cost.push({ name: 'e2bbench_capacity_max_sandboxes', labels: s.metric, value: num(s) });
  // What each machine is: e2bbench_machine_info (instance type) from the exporter that measured it.
  for (const s of await query(
    base,
    `max by (host, instance_type) (max_over_time(e2bbench_machine_info${w}))`,
    at,
    signal,
  )) {
    const m = byTarget.get(`machine/${s.metric.host}`);
    if (m?.machine && s.metric.instance_type) m.machine.instance_type = s.metric.instance_type;
  }
  // Prices join a target by name alone, as the recording rules do; a machine under no target has none.
  for (const s of cost) if (s.labels.target !== undefined) byTarget.get(s.labels.target)?.costSamples.push(s);
  return [...byTarget.values()];
}

export async function reportFromPrometheus(
  base: string,
  p: {
    since: Date;
    until: Date;
    targets?: readonly string[];
    weights: Record<Category, number>;
    config?: readonly TargetConfig[];
  },
): Promise<Report> {
  const seconds = (p.until.getTime() - p.since.getTime()) / 1000;
  // Machines stay: their host figures are reported whichever targets were asked for.
  const only = (d: TargetData[]) => (p.targets?.length ? d.filter((t) => t.machine || p.targets!.includes(t.name)) : d);
  const current = only(await collectFromPrometheus(base, p.until, seconds));
  const previous = only(await collectFromPrometheus(base, p.since, seconds));
  return buildReport(current, {
    since: p.since,
    until: p.until,
    source: 'prometheus',
    weights: p.weights,
    targets: p.config?.filter((t) => current.some((c) => !c.machine && c.name === t.name)),
    previous,
  });
}
