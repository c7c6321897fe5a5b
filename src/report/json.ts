import type { Report } from './model.js';

/** The JSON form: `{ generatedAt, since, until, source, weights, targets: [{ name, cloud_provider, cloud_region, score, rank, coverage, categories, metrics, change, runs }] }`. */
export function renderJson(r: Report): string {
  return `${JSON.stringify({ ...r, targets: r.targets.map(({ startSamples: _s, ...t }) => t) }, null, 2)}\n`;
}
