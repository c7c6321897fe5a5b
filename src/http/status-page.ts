import type { JobStatus } from '../scheduler/scheduler.js';
import type { RunRecord } from '../results/run-record.js';
import { formatValue } from '../report/format.js';
import { sparklineSvg } from '../report/svg.js';
import type { KeyFigure } from './key-figures.js';

const esc = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface StatusView {
  version: string;
  configSource: string;
  targets: { name: string; cloud_provider: string; cloud_region: string; template: string }[];
  jobs: JobStatus[];
  /** Configured probe × target pairs (shown even when nothing is scheduled, e.g. on-demand only). */
  pairs: { probe: string; target: string }[];
  latest: Map<string, RunRecord>;
  failures: RunRecord[];
  /** Key figures per target name, from the history of the last 24 h. */
  figures: Map<string, KeyFigure[]>;
}

function figuresTable(v: StatusView): string {
  const ids =
    v.figures
      .values()
      .next()
      .value?.map((f) => ({ id: f.id, title: f.title })) ?? [];
  const rows = ids
    .map(({ id, title }) => {
      const cells = v.targets
        .map((t) => {
          const f = v.figures.get(t.name)?.find((x) => x.id === id);
          if (!f || f.value === undefined)
            return `<td class="none" data-figure="${id}" data-target="${esc(t.name)}">not measured</td>`;
          const link = f.run ? ` <a href="api/runs/${esc(f.run.id)}" title="trace ${esc(f.run.traceId)}">run</a>` : '';
          return `<td class="fig" data-figure="${id}" data-target="${esc(t.name)}" data-value="${f.value}"><b>${esc(
            formatValue(f.value, f.unit),
          )}</b>${link}<br>${sparklineSvg(f.series, `${title} on ${t.name}, last 24 h`)}</td>`;
        })
        .join('');
      return `<tr><th>${esc(title)}</th>${cells}</tr>`;
    })
    .join('\n');
  return `<table id="figures"><tr><th>figure</th>${v.targets.map((t) => `<th>${esc(t.name)}</th>`).join('')}</tr>
${rows}
</table>`;
}

function cell(run: RunRecord | undefined): string {
  if (!run) return '<td class="none">no run yet</td>';
  const cls = run.success ? 'ok' : run.skipped ? 'skip' : 'fail';
  const label = run.success ? 'ok' : run.skipped ? `skipped: ${run.skipped}` : `failed: ${run.reason}`;
  // Shown from a tenth of a second on: shorter waits are the lock's own bookkeeping.
  const waited =
    run.machine && run.machine.waitedSeconds >= 0.1
      ? `<br><small>waited ${run.machine.waitedSeconds.toFixed(1)} s for this machine</small>`
      : '';
  return `<td class="${cls}" title="${esc(run.message ?? '')}"><a href="api/runs/${esc(run.id)}">${esc(label)}</a><br><small>${esc(
    run.endedAt,
  )} · ${run.durationSeconds.toFixed(2)} s</small>${waited}</td>`;
}

/** The `/` page: targets × probes with the last result, the next run, and recent failures with trace ids. */
export function renderStatusPage(v: StatusView): string {
  const probes = [...new Set(v.pairs.map((j) => j.probe))].sort();
  const configured = new Set(v.pairs.map((x) => `${x.probe}\u0000${x.target}`));
  const job = (p: string, t: string) => v.jobs.find((j) => j.probe === p && j.target === t);
  const rows = probes
    .map((p) => {
      const cells = v.targets
        .map((t) => {
          if (!configured.has(`${p}\u0000${t.name}`)) return '<td class="none">—</td>';
          const j = job(p, t.name);
          const when = !j
            ? 'on demand only'
            : j.waitingForMachineSince
              ? `waiting for this machine since ${esc(j.waitingForMachineSince)}`
              : j.running
                ? 'running now'
                : `next ${esc(j.nextRunAt ?? '—')}${j.schedule ? ` (cron ${esc(j.schedule)})` : ''}`;
          return cell(v.latest.get(`${p}\u0000${t.name}`)).replace('</td>', `<br><small>${when}</small></td>`);
        })
        .join('');
      return `<tr><th>${esc(p)}</th>${cells}</tr>`;
    })
    .join('\n');
  const failures = v.failures
    .map(
      (r) =>
        `<tr><td>${esc(r.endedAt)}</td><td>${esc(r.probe)}</td><td>${esc(r.target)}</td><td>${esc(r.reason)}</td><td>${esc(
          r.message ?? '',
        )}</td><td><code>${esc(r.traceId)}</code></td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>e2b-bench</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin-bottom:2em}td,th{border:1px solid #ccc;padding:.35em .6em;text-align:left;vertical-align:top}
td.fig{text-align:right;font-variant-numeric:tabular-nums}svg.spark{display:block;margin-left:auto}
.ok{background:#e6f6e6}.fail{background:#fbe3e3}.skip{background:#fff6d6}.none{color:#999}small{color:#666}
</style></head><body>
<h1>e2b-bench ${esc(v.version)}</h1>
<p>Config: ${esc(v.configSource)} · <a href="report">comparison report (last 24 h)</a> · <a href="api/runs">/api/runs</a> · <a href="metrics">/metrics</a></p>
<h2>Key figures</h2>
<p><small>Latest successful run per figure; the line shows every run of the last 24 h.</small></p>
${figuresTable(v)}
<h2>Probes × targets</h2>
<table id="matrix"><tr><th>probe</th>${v.targets
    .map(
      (t) =>
        `<th>${esc(t.name)}<br><small>${esc(t.cloud_provider)} · ${esc(t.cloud_region)} · ${esc(t.template)}</small></th>`,
    )
    .join('')}</tr>
${rows}
</table>
<h2>Recent failures</h2>
<table id="failures"><tr><th>when</th><th>probe</th><th>target</th><th>reason</th><th>message</th><th>trace id</th></tr>
${failures || '<tr><td colspan="6" class="none">none</td></tr>'}
</table>
</body></html>`;
}
