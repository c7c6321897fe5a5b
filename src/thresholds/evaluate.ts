import type { RunRecord } from '../results/run-record.js';
import { holds, metricMatches, RUN_STATISTICS, type Threshold } from './parse.js';

export interface ThresholdResult {
  threshold: Threshold;
  target: string;
  /** Labels of the measured series (metric statistics), for the message. */
  series?: Record<string, string>;
  measured?: number;
  ok: boolean;
  /** Why there is no value (run failed, nothing matched). */
  note?: string;
}

const STAT_FIELD: Record<string, string> = { success_ratio: 'successRatio' };

/** A run statistic from details.stats: one summary, or one per label value (e.g. by operation). */
function runStatistic(run: RunRecord, t: Threshold): { value?: number; series?: Record<string, string> } {
  const stats = run.details.stats as Record<string, unknown> | undefined;
  if (!stats || typeof stats !== 'object') return {};
  const field = STAT_FIELD[t.statistic] ?? t.statistic;
  if (typeof stats.n === 'number') return { value: stats[field] as number | undefined };
  // Keyed summaries (lifecycle.ops: by operation): the selector's value picks one.
  for (const [label, v] of Object.entries(t.selector)) {
    const s = stats[v] as Record<string, unknown> | undefined;
    if (s && typeof s.n === 'number') return { value: s[field] as number | undefined, series: { [label]: v } };
  }
  return {};
}

/**
 * Checks each threshold against the runs of its probe (one result per target and matched series).
 * A probe that did not run is not judged; a run that measured nothing for the key fails it.
 */
export function evaluateThresholds(thresholds: readonly Threshold[], runs: readonly RunRecord[]): ThresholdResult[] {
  const out: ThresholdResult[] = [];
  for (const t of thresholds) {
    for (const run of runs.filter((r) => r.probe === t.probe && !r.skipped)) {
      const base = { threshold: t, target: run.target };
      const isRunStat = (RUN_STATISTICS as readonly string[]).includes(t.statistic);
      if (isRunStat) {
        const { value, series } = runStatistic(run, t);
        if (value !== undefined && Number.isFinite(value))
          out.push({ ...base, series, measured: value, ok: holds(t.op, value, t.value) });
        else
          out.push({
            ...base,
            ok: false,
            note: run.success
              ? 'the run recorded no such statistic'
              : `the run failed (${run.reason}): ${run.message ?? ''}`,
          });
        continue;
      }
      const matched = run.metrics.filter(
        (m) => metricMatches(m.name, t.statistic) && Object.entries(t.selector).every(([k, v]) => m.labels[k] === v),
      );
      if (!matched.length) {
        out.push({
          ...base,
          ok: false,
          note: run.success ? 'no recorded series matches' : `the run failed (${run.reason}): ${run.message ?? ''}`,
        });
        continue;
      }
      for (const m of matched) {
        const { target: _t, cloud_provider: _c, cloud_region: _r, ...series } = m.labels;
        out.push({ ...base, series, measured: m.value, ok: holds(t.op, m.value, t.value) });
      }
    }
  }
  return out;
}
