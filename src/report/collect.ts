import type { RecordedSample } from '../probe/types.js';
import type { RunRecord } from '../results/run-record.js';
import {
  GAUGE_SPECS,
  START_PROBES,
  START_TYPES,
  gaugeKey,
  identityOf,
  matches,
  type GaugeSpec,
  type StartType,
} from './specs.js';

export interface StartData {
  /** Successful start times in seconds (every raw sample of the period); empty from Prometheus. */
  samples: number[];
  attempted: number;
  /** Set when the source has no raw samples (Prometheus): percentiles computed there. */
  quantiles?: { p50?: number; p95?: number; p99?: number };
  successRatio?: number;
}

export interface GaugeData {
  spec: GaugeSpec;
  identity: string;
  /** One value per run (history) or one aggregate over the period (Prometheus). */
  values: number[];
}

/** What one target measured in a period, whatever the source. */
export interface TargetData {
  name: string;
  cloud_provider: string;
  cloud_region: string;
  starts: Partial<Record<StartType, StartData>>;
  gauges: Map<string, GaugeData>;
  /** Recorded samples the cost model reads its inputs from (capacity, CPU score, start p50). */
  costSamples: RecordedSample[];
  runs: { total: number; failed: number };
  /**
   * Set when this is a machine under no target (its host figures, named after its host): reported
   * apart from the targets, never scored or priced.
   */
  machine?: { instance_type: string };
  /** Machines whose host figures are placed under this target (`host: self`). */
  hosts?: string[];
}

/** A run's machine when it measured one under no target (host probes without a `host: self` target). */
function machineOf(
  run: RunRecord,
): { name: string; cloud_provider: string; cloud_region: string; instance_type: string } | undefined {
  if (run.host) return run.host.target ? undefined : run.host;
  // Runs recorded before the record named its machine: host-labelled samples, none with a target.
  const l = run.metrics.find((m) => m.labels.host !== undefined)?.labels;
  if (!l || run.metrics.some((m) => m.labels.target !== undefined)) return undefined;
  return { name: l.host, cloud_provider: l.cloud_provider, cloud_region: l.cloud_region, instance_type: 'unknown' };
}

export function emptyTarget(name: string, cloud_provider: string, cloud_region: string): TargetData {
  return {
    name,
    cloud_provider,
    cloud_region,
    starts: {},
    gauges: new Map(),
    costSamples: [],
    runs: { total: 0, failed: 0 },
  };
}

/** Adds one value of a gauge series (max over the labels the spec collapses). */
export function addGauge(t: TargetData, spec: GaugeSpec, labels: Record<string, string>, value: number): void {
  const key = gaugeKey(spec, labels);
  const g = t.gauges.get(key) ?? { spec, identity: identityOf(spec, labels), values: [] };
  g.values.push(value);
  t.gauges.set(key, g);
}

/**
 * Groups the runs of a period by target (and by machine, for host runs under no target): every
 * start sample, one value per run and gauge series.
 */
export function collectFromRuns(runs: readonly RunRecord[]): TargetData[] {
  const byTarget = new Map<string, TargetData>();
  const probeStart = new Map(START_TYPES.map((s) => [START_PROBES[s], s]));
  for (const run of runs) {
    if (run.skipped) continue;
    const m = machineOf(run);
    const key = m ? `machine/${m.name}` : run.target;
    let t = byTarget.get(key);
    if (!t) {
      t = m
        ? { ...emptyTarget(m.name, m.cloud_provider, m.cloud_region), machine: { instance_type: m.instance_type } }
        : emptyTarget(run.target, 'unknown', 'unknown');
      byTarget.set(key, t);
    }
    // A target's cloud comes from its own series, never from a machine placed under it.
    const tl = m ? undefined : run.metrics.find((x) => x.labels.target === run.target && !x.labels.host)?.labels;
    if (tl && t.cloud_provider === 'unknown')
      Object.assign(t, { cloud_provider: tl.cloud_provider, cloud_region: tl.cloud_region });
    if (!m && run.host && !(t.hosts ??= []).includes(run.host.name)) t.hosts!.push(run.host.name);
    t.runs.total++;
    if (!run.success) t.runs.failed++;

    const startType = probeStart.get(run.probe);
    if (startType) {
      const samples = run.metrics
        .filter((m) => m.name === 'e2bbench_sandbox_start_seconds' && m.labels.start_type === startType)
        .map((m) => m.value);
      const raw = run.details.samples;
      const attempted = Array.isArray(raw) ? raw.length : samples.length;
      const s = (t.starts[startType] ??= { samples: [], attempted: 0 });
      s.samples.push(...samples);
      s.attempted += attempted;
    }
    if (!run.success) continue;
    // Max per run and series, then one value per run: a run that measured a series twice counts once.
    const perRun = new Map<string, { spec: GaugeSpec; labels: Record<string, string>; value: number }>();
    for (const m of run.metrics) {
      for (const spec of GAUGE_SPECS) {
        if (!matches(spec, m.name, m.labels)) continue;
        const key = gaugeKey(spec, m.labels);
        const prev = perRun.get(key);
        if (!prev || m.value > prev.value) perRun.set(key, { spec, labels: m.labels, value: m.value });
      }
    }
    for (const { spec, labels, value } of perRun.values()) addGauge(t, spec, labels, value);
    t.costSamples.push(...run.metrics);
  }
  return [...byTarget.values()];
}
