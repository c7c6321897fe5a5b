import { parse as parseYaml } from 'yaml';
import { isRecord, parseError } from './text.js';

export interface StressNgMetric {
  stressor: string;
  bogoOps: number;
  /** bogo ops per second of wall time: the figure to compare between runs. */
  bogoOpsPerSecond: number;
  bogoOpsPerCpuSecond: number;
  wallSeconds: number;
}

export interface StressNgResult {
  version?: string;
  metrics: StressNgMetric[];
}

/** `stress-ng --metrics-brief --yaml FILE` document (stress-ng 0.1x key names). */
export function parseStressNgYaml(text: string): StressNgResult {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw parseError('stress-ng', `invalid YAML (${(err as Error).message.split('\n')[0]})`, text);
  }
  if (!isRecord(doc)) throw parseError('stress-ng', 'not a YAML mapping', text);
  const info = isRecord(doc['system-info']) ? doc['system-info'] : {};
  const rows = Array.isArray(doc.metrics) ? doc.metrics : [];
  const metrics = rows.map((row: unknown): StressNgMetric => {
    if (!isRecord(row) || typeof row.stressor !== 'string')
      throw parseError('stress-ng', 'metrics row without a stressor');
    const n = (key: string) => {
      const v = row[key];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw parseError('stress-ng', `metrics row without ${key}`);
      return v;
    };
    return {
      stressor: row.stressor,
      bogoOps: n('bogo-ops'),
      bogoOpsPerSecond: n('bogo-ops-per-second-real-time'),
      bogoOpsPerCpuSecond: n('bogo-ops-per-second-usr-sys-time'),
      wallSeconds: n('wall-clock-time'),
    };
  });
  if (metrics.length === 0) throw parseError('stress-ng', 'no metrics (was -q or --metrics missing?)', text);
  const version = info['stress-ng-version'];
  return { version: version === undefined ? undefined : String(version), metrics };
}

// "stress-ng: metrc: [pid] vm   74834   2.00   1.49   0.45   37396.24   38745.63"
const BRIEF_ROW =
  /^stress-ng: metrc: \[\d+\] (\S+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$/gm;

/** The `--metrics-brief` table stress-ng writes to stderr (fallback when no YAML was written). */
export function parseStressNgMetricsBrief(text: string): StressNgResult {
  const metrics = [...text.matchAll(BRIEF_ROW)].map((m) => ({
    stressor: m[1],
    bogoOps: Number(m[2]),
    wallSeconds: Number(m[3]),
    bogoOpsPerSecond: Number(m[6]),
    bogoOpsPerCpuSecond: Number(m[7]),
  }));
  if (metrics.length === 0) throw parseError('stress-ng', 'no metrics rows', text);
  return { metrics };
}
