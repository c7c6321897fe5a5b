import type { Change, Figure, MachineReport, Report, TargetReport } from './model.js';
import { GAUGE_SPECS, START_PROBES, START_TYPES, type Section } from './specs.js';

/** A value in the unit a person reads: ms for seconds, MB/s for bytes per second, % for ratios. */
export function formatValue(v: number, unit: string): string {
  if (!Number.isFinite(v)) return '—';
  const num = (x: number, digits = 3) => {
    const a = Math.abs(x);
    return a >= 1000 ? x.toFixed(0) : a >= 100 ? x.toFixed(1) : Number(x.toPrecision(digits)).toString();
  };
  switch (unit) {
    case 's':
      return v < 1 ? `${num(v * 1000)} ms` : `${num(v)} s`;
    case 'B/s':
      return `${num(v / 1e6)} MB/s`;
    case 'ratio':
      return `${num(v * 100)} %`;
    case 'USD':
      return `$${v < 1 ? v.toPrecision(3) : v.toFixed(2)}`;
    default:
      return `${num(v)} ${unit}`;
  }
}

export function formatFigure(f: Figure | undefined): string {
  return f ? formatValue(f.value, f.unit) : '—';
}

export function formatCI(f: Figure | undefined): string {
  if (!f) return '';
  if (f.ci) return `${formatValue(f.ci.low, f.unit)} – ${formatValue(f.ci.high, f.unit)}`;
  return f.ciNote ? `n/a (${f.ciNote})` : '';
}

export function formatChange(c: Change | undefined): string {
  if (!c) return '';
  const pct = `${c.ratio >= 0 ? '+' : ''}${(c.ratio * 100).toFixed(1)} %`;
  return c.significant ? `${pct} ⚠ outside CI` : pct;
}

export const fmtScore = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(3));

/** The summary-comparison rows: the core metrics, by figure key (first match per row). */
export interface SummaryRow {
  title: string;
  pick: (t: TargetReport) => Figure | undefined;
}

const first = (t: TargetReport, re: RegExp) => {
  const key = Object.keys(t.metrics)
    .filter((k) => re.test(k))
    .sort()[0];
  return key ? t.metrics[key] : undefined;
};
/** The multi-thread figure with the most threads. */
const most = (t: TargetReport, re: RegExp) => {
  const keys = Object.keys(t.metrics).filter((k) => re.test(k));
  const n = (k: string) => Number(/threads=(\d+)/.exec(k)?.[1] ?? 0);
  const key = keys.sort((a, b) => n(b) - n(a))[0];
  return key && n(key) > 1 ? t.metrics[key] : undefined;
};

export const SUMMARY_ROWS: SummaryRow[] = [
  { title: 'Cold start P95', pick: (t) => t.metrics['lifecycle.cold_start.p95'] },
  { title: 'Warm start P50', pick: (t) => t.metrics['lifecycle.warm_start.p50'] },
  { title: 'Snapshot restore P50', pick: (t) => t.metrics['lifecycle.snapshot_restore.p50'] },
  { title: 'Template download speed', pick: (t) => first(t, /^template_download_bytes_per_second/) },
  { title: 'In-sandbox CPU, 1 thread', pick: (t) => t.metrics['cpu_events_per_second{scope=sandbox,threads=1}'] },
  { title: 'In-sandbox CPU, all threads', pick: (t) => most(t, /^cpu_events_per_second\{scope=sandbox,/) },
  { title: 'In-sandbox disk random-read IOPS', pick: (t) => first(t, /^disk_iops\{scope=sandbox,pattern=randread,/) },
  { title: 'Python score', pick: (t) => t.metrics['code_exec_score{runtime=python}'] },
  { title: 'Node.js score', pick: (t) => t.metrics['code_exec_score{runtime=node}'] },
  { title: 'CPU isolation', pick: (t) => t.metrics['isolation_ratio{colocated=true,resource=cpu}'] },
  { title: 'Disk isolation', pick: (t) => t.metrics['isolation_ratio{colocated=true,resource=disk}'] },
  { title: 'Host → storage latency P50', pick: (t) => first(t, /^storage_latency_seconds/) },
  { title: 'Huge pages speed-up', pick: (t) => t.metrics['hugepages_speedup_ratio'] },
  { title: 'Cost per sandbox-hour', pick: (t) => t.metrics['cost.sandbox_hour_usd'] },
  {
    title: 'Cost per CPU score (sandbox-hour basis)',
    pick: (t) => first(t, /^cost\.per_cpu_score_usd\{basis=sandbox_hour,/),
  },
];

/** A target's figures grouped as a record form: lifecycle, in-sandbox, isolation, host, storage, cost. */
export function recordSections(t: Pick<TargetReport, 'metrics'>): { title: string; keys: string[] }[] {
  const bySection = (s: Section) =>
    Object.keys(t.metrics)
      .filter((k) => GAUGE_SPECS.some((g) => g.section === s && k.startsWith(g.metric.replace(/^e2bbench_/, ''))))
      .filter((k) => sectionOf(k) === s)
      .sort();
  return [
    {
      title: '1. Sandbox lifecycle',
      keys: START_TYPES.flatMap((s) =>
        ['p50', 'p95', 'p99', 'success_ratio'].map((x) => `${START_PROBES[s]}.${x}`),
      ).filter((k) => t.metrics[k]),
    },
    { title: '2. In-sandbox performance', keys: bySection('in_sandbox') },
    { title: '3. Isolation', keys: bySection('isolation') },
    { title: '4. Host performance', keys: bySection('host') },
    { title: '5. Storage', keys: bySection('storage') },
    {
      title: '6. Cost',
      keys: Object.keys(t.metrics)
        .filter((k) => k.startsWith('cost.'))
        .sort(),
    },
  ];
}

function sectionOf(key: string): Section | undefined {
  const scope = /scope=(sandbox|host)/.exec(key)?.[1];
  if (scope) return scope === 'host' ? 'host' : 'in_sandbox';
  const spec = GAUGE_SPECS.find((g) => key.startsWith(`${g.metric.replace(/^e2bbench_/, '')}`));
  return spec?.section;
}

export function periodText(r: Report): string {
  return `${r.since} → ${r.until} (${r.source === 'history' ? 'run history' : 'Prometheus'})`;
}

const START_TITLES: Record<string, string> = {
  'lifecycle.cold_start': 'Cold start',
  'lifecycle.warm_start': 'Warm start',
  'lifecycle.snapshot_restore': 'Snapshot restore',
};

/** A readable name for a figure key: "Cold start p95", "CPU (sysbench) threads=4". */
export function figureTitle(key: string): string {
  const start = /^(lifecycle\.\w+)\.(\w+)$/.exec(key);
  if (start && START_TITLES[start[1]]) return `${START_TITLES[start[1]]} ${start[2].replace('_', ' ')}`;
  const m = /^([\w.]+)(?:\{(.*)\})?$/.exec(key);
  if (!m) return key;
  const labels = Object.fromEntries(
    (m[2] ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('=') as [string, string]),
  );
  const spec = GAUGE_SPECS.find(
    (g) => g.metric === `e2bbench_${m[1]}` && Object.entries(g.where ?? {}).every(([k, v]) => labels[k] === v),
  );
  const own = Object.entries(labels)
    .filter(([k]) => !spec?.where || !(k in spec.where))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const base = spec?.title ?? m[1].replace(/^cost\./, 'cost: ').replace(/_/g, ' ');
  return own ? `${base} (${own})` : base;
}

/** The host figures of a machine under no target (section 4 of its record). */
export function machineKeys(m: MachineReport): string[] {
  return recordSections(m).find((s) => s.title === '4. Host performance')!.keys;
}

export const MACHINES_INTRO =
  'Host figures of machines that no target declared as one of its nodes (`host: self`): they describe the machine the exporter runs on, not any target, and are not scored.';
