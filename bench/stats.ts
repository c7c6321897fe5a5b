import { percentile } from '../src/stats/summary.js';

export interface Row {
  name: string;
  n: number;
  p50: number;
  p95: number;
  unit: string;
  note?: string;
}

export function row(name: string, samples: number[], unit = 'ms', note?: string): Row {
  const s = [...samples].sort((a, b) => a - b);
  return { name, n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), unit, note };
}

export function printRows(title: string, rows: Row[]): void {
  console.log(`\n## ${title}\n`);
  console.log('| measurement | n | p50 | p95 | note |');
  console.log('|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.name} | ${r.n} | ${r.p50.toFixed(2)} ${r.unit} | ${r.p95.toFixed(2)} ${r.unit} | ${r.note ?? ''} |`,
    );
}

export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}
