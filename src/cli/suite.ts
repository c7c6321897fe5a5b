import type { RunRecord } from '../results/run-record.js';
import { Progress } from '../suite/progress.js';
import type { ThresholdResult } from '../thresholds/evaluate.js';
import { UsageError } from './args.js';

export const SUITE_HELP = `Usage: e2b-bench suite [--config FILE] [--target NAME]... [--probe NAME | FAMILY.*]...
                       [--samples N] [--out FILE] [--format html|md|json]

Runs the selected probes (default: every enabled probe) once per target, host and storage probes
first, capacity last, writes every run to the history, then writes the comparison report of these
runs (to --out, or stdout) and checks the configured thresholds. Progress goes to stderr.

  -c, --config FILE     configuration (targets, probes, thresholds, history, report.weights)
  -t, --target NAME     only this target (repeatable)
  -p, --probe SEL       a probe name, or FAMILY.* (repeatable)
  -n, --samples N       override every probe's sample count
  -o, --out FILE        write the report to FILE (format from its extension unless --format)
  -f, --format FORMAT   html, md or json (default: from --out, else md)

Thresholds (config \`thresholds\`, e.g. "lifecycle.cold_start.p95": "< 1.5s") are checked against
the runs of this suite; each failure is printed with the measured value.
Exit status: 0 every threshold holds, 1 a threshold failed, 2 usage or configuration error.`;

export function formatThresholdResult(r: ThresholdResult, unitless: (v: number) => string): string {
  const series =
    r.series && Object.keys(r.series).length
      ? `{${Object.entries(r.series)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')}}`
      : '';
  const what = `${r.threshold.key} on ${r.target}${series}`;
  if (r.measured === undefined) return `FAIL ${what}: ${r.threshold.text} not measured: ${r.note}`;
  return `${r.ok ? 'ok  ' : 'FAIL'} ${what}: measured ${unitless(r.measured)}, threshold ${r.threshold.text}`;
}

/** Measured values in base units, shown plainly (seconds, bytes, ratios as recorded). */
export function plain(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1000 ? v.toFixed(1) : Number(v.toPrecision(4)).toString();
}

export function outcomeOf(run: RunRecord): string {
  return run.success
    ? 'ok'
    : run.skipped
      ? `skipped (${run.skipped}: ${run.message ?? ''})`
      : `FAILED (${run.reason}): ${run.message ?? ''}`;
}

export function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer`);
  return n;
}

export { Progress };
