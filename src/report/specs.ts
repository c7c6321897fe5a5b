import type { MetricName } from '../../exporters/prometheus/catalog.js';
import type { Category } from './model.js';

export type Section = 'in_sandbox' | 'isolation' | 'host' | 'storage';

/**
 * One benchmark figure of the report, taken from the probes' gauges. A series is identified by the
 * `by` labels (one figure per identity, e.g. per thread count); other labels are collapsed with
 * max, as the recording rules do. `score` makes it an input of the weighted score, with the same
 * selectors as prometheus/rules/score.rules.yml.
 */
export interface GaugeSpec {
  metric: MetricName;
  where?: Record<string, string>;
  by: string[];
  title: string;
  unit: string;
  better: 'higher' | 'lower';
  section: Section;
  score?: { category: Category; input: string };
}

const g = (
  section: Section,
  metric: MetricName,
  where: Record<string, string> | undefined,
  by: string[],
  title: string,
  unit: string,
  better: 'higher' | 'lower' = 'higher',
  score?: GaugeSpec['score'],
): GaugeSpec => ({ section, metric, where, by, title, unit, better, score });

export const GAUGE_SPECS: readonly GaugeSpec[] = [
  g(
    'in_sandbox',
    'e2bbench_cpu_events_per_second',
    { scope: 'sandbox' },
    ['threads'],
    'CPU (sysbench)',
    'events/s',
    'higher',
    { category: 'in_sandbox', input: 'cpu' },
  ),
  g(
    'in_sandbox',
    'e2bbench_memory_bandwidth_bytes_per_second',
    { scope: 'sandbox' },
    ['operation'],
    'Memory bandwidth',
    'B/s',
    'higher',
    { category: 'in_sandbox', input: 'memory' },
  ),
  g(
    'in_sandbox',
    'e2bbench_disk_iops',
    { scope: 'sandbox', pattern: 'randread' },
    ['iodepth'],
    'Disk 4k random read',
    'IOPS',
    'higher',
    { category: 'in_sandbox', input: 'disk_randread' },
  ),
  g(
    'in_sandbox',
    'e2bbench_disk_iops',
    { scope: 'sandbox', pattern: 'randwrite' },
    ['iodepth'],
    'Disk 4k random write',
    'IOPS',
  ),
  g(
    'in_sandbox',
    'e2bbench_disk_latency_seconds',
    { scope: 'sandbox', pattern: 'randread', percentile: 'p99' },
    ['iodepth'],
    'Disk random read p99 latency',
    's',
    'lower',
  ),
  g(
    'in_sandbox',
    'e2bbench_network_bandwidth_bytes_per_second',
    { scope: 'sandbox' },
    ['direction'],
    'Network bandwidth',
    'B/s',
  ),
  g('in_sandbox', 'e2bbench_network_rtt_seconds', { scope: 'sandbox' }, [], 'Network RTT', 's', 'lower'),
  g('in_sandbox', 'e2bbench_code_exec_score', undefined, ['runtime'], 'Code execution score', 'score', 'higher', {
    category: 'in_sandbox',
    input: 'code_exec',
  }),
  // Only where the aggressors shared the victim's node: elsewhere they measured nothing about isolation.
  g(
    'isolation',
    'e2bbench_isolation_ratio',
    { colocated: 'true' },
    ['resource'],
    'Isolation under noisy neighbours',
    'ratio',
    'higher',
    { category: 'isolation', input: 'isolation' },
  ),
  g(
    'host',
    'e2bbench_cpu_events_per_second',
    { scope: 'host' },
    ['threads'],
    'Host CPU (sysbench)',
    'events/s',
    'higher',
    { category: 'host', input: 'cpu' },
  ),
  g(
    'host',
    'e2bbench_memory_bandwidth_bytes_per_second',
    { scope: 'host' },
    ['operation'],
    'Host memory bandwidth',
    'B/s',
    'higher',
    { category: 'host', input: 'memory' },
  ),
  g(
    'host',
    'e2bbench_disk_iops',
    { scope: 'host', pattern: 'randread' },
    ['iodepth'],
    'Host disk 4k random read',
    'IOPS',
    'higher',
    { category: 'host', input: 'disk_randread' },
  ),
  g('host', 'e2bbench_hugepages_speedup_ratio', undefined, [], 'Huge pages speed-up', 'ratio'),
  g(
    'storage',
    'e2bbench_storage_throughput_bytes_per_second',
    undefined,
    ['operation', 'mode', 'size_class'],
    'Object storage throughput',
    'B/s',
    'higher',
    { category: 'storage', input: 'throughput' },
  ),
  g(
    'storage',
    'e2bbench_storage_latency_seconds',
    { statistic: 'p50' },
    ['operation'],
    'Host → storage latency p50',
    's',
    'lower',
    { category: 'storage', input: 'latency_p50' },
  ),
  g(
    'storage',
    'e2bbench_template_download_bytes_per_second',
    undefined,
    ['concurrency'],
    'Template download',
    'B/s',
    'higher',
    { category: 'storage', input: 'template_download' },
  ),
];

/** `cpu_events_per_second{scope=sandbox,threads=4}`: the key of one figure (also a threshold key's shape). */
export function gaugeKey(spec: GaugeSpec, labels: Record<string, string>): string {
  const sel = { ...spec.where };
  for (const l of spec.by) sel[l] = labels[l] ?? '';
  const inner = Object.entries(sel)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${spec.metric.replace(/^e2bbench_/, '')}${inner ? `{${inner}}` : ''}`;
}

export function identityOf(spec: GaugeSpec, labels: Record<string, string>): string {
  return spec.by.map((l) => `${l}=${labels[l] ?? ''}`).join(',') || '-';
}

export function matches(spec: GaugeSpec, name: string, labels: Record<string, string>): boolean {
  return name === spec.metric && Object.entries(spec.where ?? {}).every(([k, v]) => labels[k] === v);
}

export const START_TYPES = ['cold', 'warm', 'restore'] as const;
export type StartType = (typeof START_TYPES)[number];

/** The probe whose runs hold each start type's samples. */
export const START_PROBES: Record<StartType, string> = {
  cold: 'lifecycle.cold_start',
  warm: 'lifecycle.warm_start',
  restore: 'lifecycle.snapshot_restore',
};

/** The headline statistic per start type, scored under `start` (lower is better). */
export const START_SCORE: Record<StartType, 'p50' | 'p95'> = { cold: 'p95', warm: 'p50', restore: 'p50' };
