import type { TargetConfig } from '../config/schema.js';
import type { RunSink } from '../results/store.js';
import { buildReport } from './build.js';
import { collectFromRuns } from './collect.js';
import type { Category, Report } from './model.js';

export interface ReportPeriod {
  since: Date;
  until: Date;
  /** Only these targets (all when empty). */
  targets?: readonly string[];
  weights: Record<Category, number>;
  /** Configured targets (pricing for costs; a row even without runs). */
  config?: readonly TargetConfig[];
}

/** The comparison of a period from the run history, with the previous period of the same length. */
export function reportFromHistory(history: Pick<RunSink, 'range'>, p: ReportPeriod): Report {
  const len = p.until.getTime() - p.since.getTime();
  const targets = p.targets?.length ? p.targets : undefined;
  const current = collectFromRuns(history.range({ since: p.since.getTime(), until: p.until.getTime(), targets }));
  const previous = collectFromRuns(
    history.range({ since: p.since.getTime() - len, until: p.since.getTime(), targets }),
  );
  return buildReport(current, {
    since: p.since,
    until: p.until,
    source: 'history',
    weights: p.weights,
    targets: p.config?.filter((t) => !targets || targets.includes(t.name)),
    previous,
  });
}
