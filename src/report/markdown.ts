import { CATEGORIES, CATEGORY_TITLES, type Report } from './model.js';
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

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const row = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
const head = (cells: string[]) => [row(cells), row(cells.map(() => '---'))].join('\n');

/**
 * Markdown forms: the cross-cloud summary comparison (core metrics side
 * by side, weighted score, ranking), then one record form per target.
 */
export function renderMarkdown(r: Report): string {
  const names = r.targets.map((t) => t.name);
  const out: string[] = [];
  out.push('# E2B benchmark comparison', '');
  out.push(`Period: ${periodText(r)}. Generated ${r.generatedAt}.`, '');
  out.push('## Summary comparison', '');
  out.push(head(['Metric', ...names]));
  for (const s of SUMMARY_ROWS) out.push(row([s.title, ...r.targets.map((t) => formatFigure(s.pick(t)))]));
  out.push('');
  out.push('## Weighted score and ranking', '');
  out.push(
    'Each input is normalised against the best target (1 = best); a category a target has no data for is marked "no data" and left out of its score (coverage says how much of the weight it covers).',
    '',
  );
  out.push(head(['Category', 'Weight', ...names]));
  for (const c of CATEGORIES)
    out.push(
      row([
        CATEGORY_TITLES[c],
        `${Math.round(r.weights[c] * 100)} %`,
        ...r.targets.map((t) => (t.categories[c].missing ? 'no data' : fmtScore(t.categories[c].score))),
      ]),
    );
  out.push(row(['**Weighted score**', '', ...r.targets.map((t) => `**${fmtScore(t.score)}**`)]));
  out.push(row(['Coverage', '', ...r.targets.map((t) => `${Math.round(t.coverage * 100)} %`)]));
  out.push(row(['**Rank**', '', ...r.targets.map((t) => (t.rank ? `**${t.rank}**` : 'unranked'))]));
  out.push('');
  out.push('### Normalised inputs', '');
  out.push(head(['Category', 'Input', ...names]));
  for (const c of CATEGORIES) {
    const inputs = [...new Set(r.targets.flatMap((t) => Object.keys(t.categories[c].inputs)))].sort();
    for (const i of inputs)
      out.push(row([CATEGORY_TITLES[c], i, ...r.targets.map((t) => fmtScore(t.categories[c].inputs[i]?.normalised))]));
  }
  out.push('');
  for (const t of r.targets) {
    out.push(`## Record: ${t.name}`, '');
    out.push(
      `Cloud: ${t.cloud_provider} · region: ${t.cloud_region} · runs: ${t.runs.total} (${t.runs.failed} failed) · score ${fmtScore(t.score)}${t.rank ? ` · rank ${t.rank}` : ''}${t.hosts ? ` · host figures measured on ${t.hosts.join(', ')}` : ''}`,
      '',
    );
    for (const s of recordSections(t)) {
      out.push(`### ${s.title}`, '');
      if (!s.keys.length) {
        out.push('Not measured in this period.', '');
        continue;
      }
      out.push(head(['Metric', 'Value', '95 % CI', 'n', 'Change vs previous period']));
      for (const k of s.keys) {
        const f = t.metrics[k];
        out.push(row([figureTitle(k), formatFigure(f), formatCI(f), String(f.n), formatChange(t.change[k])]));
      }
      out.push('');
    }
  }
  if (r.machines.length) {
    out.push('## Machines', '', MACHINES_INTRO, '');
    for (const m of r.machines) {
      out.push(`### Machine: ${m.host}`, '');
      out.push(
        `Cloud: ${m.cloud_provider} · region: ${m.cloud_region} · instance type: ${m.instance_type} · runs: ${m.runs.total} (${m.runs.failed} failed)`,
        '',
      );
      const keys = machineKeys(m);
      if (!keys.length) {
        out.push('Not measured in this period.', '');
        continue;
      }
      out.push(head(['Metric', 'Value', '95 % CI', 'n', 'Change vs previous period']));
      for (const k of keys) {
        const f = m.metrics[k];
        out.push(row([figureTitle(k), formatFigure(f), formatCI(f), String(f.n), formatChange(m.change[k])]));
      }
      out.push('');
    }
  }
  return out.join('\n');
}
