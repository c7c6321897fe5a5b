import type { RunRecord } from '../results/run-record.js';

/** A readable table of one run's recorded metrics. */
export function formatRun(run: RunRecord): string {
  const lines: string[] = [];
  const status = run.success ? 'ok' : run.skipped ? `skipped (${run.skipped})` : `FAILED (${run.reason})`;
  lines.push(`${run.probe} on ${run.target}: ${status} in ${run.durationSeconds.toFixed(2)} s  trace ${run.traceId}`);
  if (run.message) lines.push(`  ${run.message}`);
  const hidden = new Set(['target', 'cloud_provider', 'cloud_region']);
  const rows = run.metrics.map((m) => {
    const labels = Object.entries(m.labels)
      .filter(([k]) => !hidden.has(k))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return [m.name.replace(/^e2bbench_/, ''), labels, formatValue(m.value)];
  });
  if (rows.length) {
    const w0 = Math.max(6, ...rows.map((r) => r[0].length));
    const w1 = Math.max(6, ...rows.map((r) => r[1].length));
    lines.push('', `${'metric'.padEnd(w0)}  ${'labels'.padEnd(w1)}  value`);
    for (const r of rows) lines.push(`${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`);
  }
  if (run.phases.length) {
    lines.push('', 'phases:');
    for (const p of run.phases)
      lines.push(
        `  ${p.name.padEnd(28)} ${(p.seconds * 1000).toFixed(1).padStart(10)} ms${p.error ? `  error: ${p.error}` : ''}`,
      );
  }
  return lines.join('\n');
}

function formatValue(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 1 ? v.toFixed(3) : v.toPrecision(4);
}
