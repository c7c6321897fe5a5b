import { percentile } from '../stats/summary.js';
import { fmtScore, formatValue } from './format.js';
import type { TargetReport } from './model.js';

export const esc = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const COLORS = ['#3366cc', '#dc3912', '#ff9900', '#109618', '#990099', '#0099c6', '#dd4477', '#66aa00'];
export const colorOf = (i: number) => COLORS[i % COLORS.length];

/**
 * Start-time distributions of every target for one start type, on one shared log axis: each
 * sample a dot, the p50 and p95 as ticks, so targets compare at a glance.
 */
export function startDistributionSvg(type: string, targets: readonly TargetReport[]): string {
  const rows = targets.filter((t) => t.startSamples[type]?.length);
  if (!rows.length) return '';
  const all = rows.flatMap((t) => t.startSamples[type]);
  const lo = Math.log10(Math.max(1e-4, Math.min(...all) * 0.8));
  const hi = Math.log10(Math.max(...all) * 1.25);
  const W = 640;
  const L = 130;
  const R = 20;
  const rowH = 28;
  const H = 30 + rows.length * rowH + 24;
  const x = (v: number) => L + ((Math.log10(v) - lo) / (hi - lo || 1)) * (W - L - R);
  const ticks: number[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++)
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (Math.log10(v) >= lo && Math.log10(v) <= hi) ticks.push(v);
    }
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" aria-label="${esc(type)} start time distribution">`,
  );
  parts.push(`<text x="${L}" y="16" class="ct">${esc(type)} start: every sample (log scale), | p50, ¦ p95</text>`);
  for (const v of ticks)
    parts.push(
      `<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="24" y2="${H - 20}" class="grid"/><text x="${x(v).toFixed(1)}" y="${H - 6}" class="ax" text-anchor="middle">${esc(formatValue(v, 's'))}</text>`,
    );
  rows.forEach((t, i) => {
    const y = 30 + i * rowH + rowH / 2;
    const c = colorOf(targets.indexOf(t));
    const sorted = [...t.startSamples[type]].sort((a, b) => a - b);
    parts.push(`<text x="${L - 8}" y="${y + 4}" text-anchor="end" class="lbl">${esc(t.name)}</text>`);
    for (const v of sorted)
      parts.push(`<circle cx="${x(v).toFixed(1)}" cy="${y}" r="3" fill="${c}" fill-opacity="0.55"/>`);
    const p50 = percentile(sorted, 50);
    const p95 = percentile(sorted, 95);
    parts.push(
      `<line x1="${x(p50).toFixed(1)}" x2="${x(p50).toFixed(1)}" y1="${y - 10}" y2="${y + 10}" stroke="#000" stroke-width="2"><title>p50 ${esc(formatValue(p50, 's'))}</title></line>`,
      `<line x1="${x(p95).toFixed(1)}" x2="${x(p95).toFixed(1)}" y1="${y - 10}" y2="${y + 10}" stroke="#000" stroke-dasharray="3 2"><title>p95 ${esc(formatValue(p95, 's'))}</title></line>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** One bar per target: its weighted score (0 … 1), with rank and coverage. */
export function scoreBarsSvg(targets: readonly TargetReport[]): string {
  const W = 640;
  const L = 130;
  const rowH = 26;
  const H = 10 + targets.length * rowH + 10;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" aria-label="weighted scores">`,
  ];
  targets.forEach((t, i) => {
    const y = 10 + i * rowH;
    const w = (t.score ?? 0) * (W - L - 120);
    parts.push(`<text x="${L - 8}" y="${y + 15}" text-anchor="end" class="lbl">${esc(t.name)}</text>`);
    parts.push(`<rect x="${L}" y="${y + 3}" width="${w.toFixed(1)}" height="16" fill="${colorOf(i)}"/>`);
    parts.push(
      `<text x="${(L + w + 6).toFixed(1)}" y="${y + 15}" class="ax">${esc(
        t.score === undefined
          ? 'no data'
          : `${fmtScore(t.score)} · rank ${t.rank} · coverage ${Math.round(t.coverage * 100)} %`,
      )}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A small trend line of values (oldest first), for the status page. */
export function sparklineSvg(values: readonly number[], label: string, w = 120, h = 24): string {
  if (values.length < 2) return '';
  const min = Math.min(...values);
  const max = Math.max(...values);
  const pts = values
    .map(
      (v, i) =>
        `${((i / (values.length - 1)) * (w - 4) + 2).toFixed(1)},${(h - 2 - ((v - min) / (max - min || 1)) * (h - 4)).toFixed(1)}`,
    )
    .join(' ');
  return `<svg xmlns="http://www.w3.org/2000/svg" class="spark" role="img" aria-label="${esc(label)}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}"><polyline fill="none" stroke="#3366cc" stroke-width="1.5" points="${pts}"/></svg>`;
}
