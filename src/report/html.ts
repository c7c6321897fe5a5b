import { CATEGORIES, CATEGORY_TITLES, type Change, type Figure, type Report } from './model.js';
import {
  SUMMARY_ROWS,
  figureTitle,
  fmtScore,
  formatCI,
  formatChange,
  formatFigure,
  machineKeys,
  MACHINES_INTRO,
  periodText,
  recordSections,
} from './format.js';
import { START_TYPES } from './specs.js';
import { esc, scoreBarsSvg, startDistributionSvg } from './svg.js';

export const REPORT_CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#222;max-width:1100px}
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0 1.2em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.missing{color:#a60;font-style:italic}.flag{color:#b00;font-weight:bold}.muted{color:#666}
svg.chart{display:block;margin:.4em 0 1em;max-width:100%;height:auto}
svg .ct{font-size:12px;fill:#333}svg .ax{font-size:11px;fill:#555}svg .lbl{font-size:12px;fill:#222}svg .grid{stroke:#e4e4e4}
@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid}table,svg{break-inside:avoid}a{color:inherit;text-decoration:none}}
`;

/** One self-contained HTML file: inline CSS and SVG, no script, no external resource; prints cleanly. */
export function renderHtml(r: Report): string {
  const names = r.targets
    .map(
      (t) =>
        `<th>${esc(t.name)}<br><small class="muted">${esc(t.cloud_provider)} · ${esc(t.cloud_region)}</small></th>`,
    )
    .join('');
  const summary = SUMMARY_ROWS.map(
    (s) =>
      `<tr><th>${esc(s.title)}</th>${r.targets.map((t) => `<td class="num">${esc(formatFigure(s.pick(t)))}</td>`).join('')}</tr>`,
  ).join('\n');
  const categories = CATEGORIES.map(
    (c) =>
      `<tr><th>${esc(CATEGORY_TITLES[c])}</th><td class="num">${Math.round(r.weights[c] * 100)} %</td>${r.targets
        .map((t) =>
          t.categories[c].missing
            ? '<td class="missing" data-missing="true">no data</td>'
            : `<td class="num">${fmtScore(t.categories[c].score)}</td>`,
        )
        .join('')}</tr>`,
  ).join('\n');
  const inputs = CATEGORIES.flatMap((c) =>
    [...new Set(r.targets.flatMap((t) => Object.keys(t.categories[c].inputs)))]
      .sort()
      .map(
        (i) =>
          `<tr><th>${esc(CATEGORY_TITLES[c])}</th><td>${esc(i)}</td>${r.targets
            .map((t) => `<td class="num">${fmtScore(t.categories[c].inputs[i]?.normalised)}</td>`)
            .join('')}</tr>`,
      ),
  ).join('\n');
  const charts = START_TYPES.map((s) => startDistributionSvg(s, r.targets)).join('\n');
  const records = r.targets
    .map((t) => {
      const sections = recordSections(t)
        .map((s) => {
          if (!s.keys.length) return `<h3>${esc(s.title)}</h3><p class="missing">Not measured in this period.</p>`;
          return `<h3>${esc(s.title)}</h3>${figureTable(s.keys, t.metrics, t.change)}`;
        })
        .join('\n');
      return `<section class="record" id="target-${esc(t.name)}"><h2>Record: ${esc(t.name)}</h2>
<p>${esc(t.cloud_provider)} · ${esc(t.cloud_region)} · runs ${t.runs.total} (${t.runs.failed} failed) · score <b>${fmtScore(
        t.score,
      )}</b>${t.rank ? ` · rank <b>${t.rank}</b>` : ''}${
        t.hosts ? ` · host figures measured on <span class="hosts">${esc(t.hosts.join(', '))}</span>` : ''
      }</p>
${sections}</section>`;
    })
    .join('\n');
  const machines = r.machines.length
    ? `<h2>Machines</h2>\n<p class="muted">${esc(MACHINES_INTRO)}</p>\n` +
      r.machines
        .map((m) => {
          const keys = machineKeys(m);
          return `<section class="machine" id="machine-${esc(m.host)}"><h3>Machine: ${esc(m.host)}</h3>
<p>${esc(m.cloud_provider)} · ${esc(m.cloud_region)} · instance type ${esc(m.instance_type)} · runs ${m.runs.total} (${m.runs.failed} failed)</p>
${keys.length ? figureTable(keys, m.metrics, m.change) : '<p class="missing">Not measured in this period.</p>'}</section>`;
        })
        .join('\n')
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>E2B benchmark comparison</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${REPORT_CSS}</style></head><body>
<h1>E2B benchmark comparison</h1>
<p>Period: ${esc(periodText(r))}. Generated ${esc(r.generatedAt)}.</p>
<h2>Ranking</h2>
${scoreBarsSvg(r.targets)}
<h2>Summary comparison</h2>
<table id="summary"><tr><th>metric</th>${names}</tr>
${summary}
</table>
<h2>Weighted score</h2>
<p class="muted">Each input is normalised against the best target (1 = best). A category a target has no data for is marked and left out of its score; coverage is the share of the weight its score covers.</p>
<table id="score"><tr><th>category</th><th>weight</th>${names}</tr>
${categories}
<tr><th>Weighted score</th><td></td>${r.targets.map((t) => `<td class="num score" data-target="${esc(t.name)}"><b>${fmtScore(t.score)}</b></td>`).join('')}</tr>
<tr><th>Coverage</th><td></td>${r.targets.map((t) => `<td class="num">${Math.round(t.coverage * 100)} %</td>`).join('')}</tr>
<tr><th>Rank</th><td></td>${r.targets.map((t) => `<td class="num rank" data-target="${esc(t.name)}"><b>${t.rank ?? 'unranked'}</b></td>`).join('')}</tr>
</table>
<h3>Normalised inputs</h3>
<table id="inputs"><tr><th>category</th><th>input</th>${names}</tr>
${inputs}
</table>
<h2>Start times</h2>
${charts || '<p class="missing">No start samples in this period.</p>'}
${records}
${machines}
</body></html>
`;
}

function figureTable(keys: string[], metrics: Record<string, Figure>, change: Record<string, Change>): string {
  const rows = keys
    .map((k) => {
      const f = metrics[k];
      const ch = change[k];
      return `<tr data-key="${esc(k)}"><th>${esc(figureTitle(k))}</th><td class="num">${esc(formatFigure(f))}</td><td>${esc(
        formatCI(f),
      )}</td><td class="num">${f.n}</td><td class="${ch?.significant ? 'flag' : ''}">${esc(formatChange(ch))}</td></tr>`;
    })
    .join('\n');
  return `<table><tr><th>metric</th><th>value</th><th>95 % CI</th><th>n</th><th>change vs previous period</th></tr>\n${rows}</table>`;
}
