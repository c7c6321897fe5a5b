import type { JobStatus } from '../scheduler/scheduler.js';
import type { RunRecord } from '../results/run-record.js';

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
                : `next ${esc(j.nextRunAt)}`;
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
.ok{background:#e6f6e6}.fail{background:#fbe3e3}.skip{background:#fff6d6}.none{color:#999}small{color:#666}
</style></head><body>
<h1>e2b-bench ${esc(v.version)}</h1>
<p>Config: ${esc(v.configSource)} · <a href="metrics">/metrics</a> · <a href="api/runs">/api/runs</a></p>
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
