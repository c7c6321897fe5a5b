import type { TargetConfig } from '../config/schema.js';
import { costInputsFromSamples, deriveCosts } from '../cost/index.js';
import type { RunRecord } from '../results/run-record.js';

/** One figure of the status page: the latest measured value and its history (oldest first). */
export interface KeyFigure {
  id: string;
  title: string;
  unit: string;
  value?: number;
  series: number[];
  /** The run the value comes from (link and trace id). */
  run?: RunRecord;
}

interface FigureDef {
  id: string;
  title: string;
  unit: string;
  probe: string;
  pick(run: RunRecord): number | undefined;
}

const stat = (field: string) => (run: RunRecord) => {
  const s = run.details.stats as Record<string, unknown> | undefined;
  const v = s?.[field];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};

/** The largest recorded value of a metric whose labels include `where`. */
const gauge = (name: string, where: Record<string, string>) => (run: RunRecord) => {
  const vs = run.metrics
    .filter((m) => m.name === name && Object.entries(where).every(([k, v]) => m.labels[k] === v))
    .map((m) => m.value);
  return vs.length ? Math.max(...vs) : undefined;
};

const FIGURES: FigureDef[] = [
  { id: 'cold_p50', title: 'Cold start p50', unit: 's', probe: 'lifecycle.cold_start', pick: stat('p50') },
  { id: 'cold_p95', title: 'Cold start p95', unit: 's', probe: 'lifecycle.cold_start', pick: stat('p95') },
  { id: 'warm_p50', title: 'Warm start p50', unit: 's', probe: 'lifecycle.warm_start', pick: stat('p50') },
  { id: 'warm_p95', title: 'Warm start p95', unit: 's', probe: 'lifecycle.warm_start', pick: stat('p95') },
  { id: 'restore_p50', title: 'Restore p50', unit: 's', probe: 'lifecycle.snapshot_restore', pick: stat('p50') },
  { id: 'restore_p95', title: 'Restore p95', unit: 's', probe: 'lifecycle.snapshot_restore', pick: stat('p95') },
  {
    id: 'cpu_1t',
    title: 'CPU score, 1 thread',
    unit: 'events/s',
    probe: 'sandbox.cpu',
    pick: gauge('e2bbench_cpu_events_per_second', { scope: 'sandbox', threads: '1' }),
  },
  {
    id: 'disk_randread_iops',
    title: 'Disk random-read IOPS',
    unit: 'IOPS',
    probe: 'sandbox.disk',
    pick: gauge('e2bbench_disk_iops', { scope: 'sandbox', pattern: 'randread' }),
  },
  {
    id: 'python_score',
    title: 'Python score',
    unit: 'score',
    probe: 'sandbox.code_exec',
    pick: gauge('e2bbench_code_exec_score', { runtime: 'python' }),
  },
];

/**
 * The status page's figures for one target from its runs (oldest first): each figure's latest
 * value from a successful run, its history for the sparkline, and the cost of a sandbox-hour
 * from the cost model over the same runs.
 */
export function keyFigures(target: TargetConfig, runs: readonly RunRecord[]): KeyFigure[] {
  const mine = runs.filter((r) => r.target === target.name && r.success);
  const out: KeyFigure[] = FIGURES.map((f) => {
    const points = mine
      .filter((r) => r.probe === f.probe)
      .map((r) => ({ r, v: f.pick(r) }))
      .filter((p): p is { r: RunRecord; v: number } => p.v !== undefined);
    const last = points[points.length - 1];
    return { id: f.id, title: f.title, unit: f.unit, value: last?.v, series: points.map((p) => p.v), run: last?.r };
  });
  const costs = deriveCosts(target, costInputsFromSamples(mine.flatMap((r) => r.metrics)));
  const hour = costs?.sandboxHourUsd.list_price ?? costs?.sandboxHourUsd.target_utilization;
  out.push({ id: 'sandbox_hour_usd', title: 'Cost per sandbox-hour', unit: 'USD', value: hour, series: [] });
  return out;
}
