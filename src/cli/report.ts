import { writeFile } from 'node:fs/promises';
import { parseDuration } from '../config/duration.js';
import type { Config } from '../config/load.js';
import type { Report } from '../report/model.js';
import { UsageError } from './args.js';

export const REPORT_FORMATS = ['html', 'md', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const REPORT_HELP = `Usage: e2b-bench report [--config FILE] [--since DURATION] [--target NAME]...
                        [--format html|md|json] [--out FILE] [--prometheus URL]

The cross-cloud comparison of the last DURATION (default 24h) from the run history: per target
start percentiles with 95 % CIs, in-sandbox, isolation, host, storage and cost figures, the weighted
score (report.weights, default as in docs/reports.md) with each category's normalised inputs, the ranking,
and the change against the previous period of the same length.

  -c, --config FILE       configuration (history.path, report.weights, targets' pricing)
  -s, --since DURATION    period ending now, e.g. 24h, 7d (default 24h)
  -t, --target NAME       only this target (repeatable; default every target with runs)
  -f, --format FORMAT     html (one self-contained file), md or json (default: from --out's
                          extension, else md)
  -o, --out FILE          write to FILE instead of stdout
      --prometheus URL    read the figures from a Prometheus server instead of the history (for
                          exporters spread over several machines); CIs need raw samples and are
                          marked as not available`;

export function formatFor(format: string | undefined, out: string | undefined): ReportFormat {
  if (format !== undefined) {
    if (!(REPORT_FORMATS as readonly string[]).includes(format))
      throw new UsageError(`--format must be one of ${REPORT_FORMATS.join(', ')}`);
    return format as ReportFormat;
  }
  const ext = out?.match(/\.(html?|md|markdown|json)$/i)?.[1].toLowerCase();
  return ext === 'htm' || ext === 'html' ? 'html' : ext === 'json' ? 'json' : 'md';
}

export function sinceMs(text: string | undefined): number {
  if (text === undefined) return 86_400_000;
  const ms = parseDuration(text);
  if (!ms) throw new UsageError('--since must be a duration such as 24h or 7d');
  return ms;
}

export async function renderReport(r: Report, format: ReportFormat): Promise<string> {
  if (format === 'html') return (await import('../report/html.js')).renderHtml(r);
  if (format === 'json') return (await import('../report/json.js')).renderJson(r);
  return (await import('../report/markdown.js')).renderMarkdown(r);
}

/** Writes the report to `out`, or stdout. */
export async function emitReport(text: string, out: string | undefined): Promise<void> {
  if (out) await writeFile(out, text);
  else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Builds the report of [now - since, now) from the history (or a Prometheus server). */
export async function buildReportFor(
  cfg: Config,
  o: { sinceMs: number; targets?: string[]; prometheus?: string; now?: Date },
): Promise<Report> {
  const until = o.now ?? new Date();
  const since = new Date(until.getTime() - o.sinceMs);
  const p = { since, until, targets: o.targets, weights: cfg.raw.report.weights, config: cfg.targets };
  if (o.prometheus) {
    try {
      new URL(o.prometheus);
    } catch {
      throw new UsageError('--prometheus must be a URL such as http://prometheus:9090');
    }
    return (await import('../report/prometheus.js')).reportFromPrometheus(o.prometheus, p);
  }
  const { openHistory } = await import('../results/open-history.js');
  const { reportFromHistory } = await import('../report/from-history.js');
  const history = openHistory(cfg.raw.history);
  try {
    return reportFromHistory(history, p);
  } finally {
    await history.close();
  }
}
