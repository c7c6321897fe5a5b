// The fio pass host.disk and sandbox.disk share: which jobs, how they are labelled, which series
// they report. Pure; the probes run the jobs where they measure.
import type { MetricName } from '../../exporters/prometheus/catalog.js';
import type { FioJob, FioPattern, fioStatsFor } from './runners/fio.js';

export interface DiskPlan {
  pattern: FioPattern;
  blockSize: string;
  iodepth: number;
}

/** The jobs of one pass: 4k random read/write at each queue depth, then 1m sequential read/write. */
export function diskPlans(randomIodepths: number[], sequentialIodepth: number): DiskPlan[] {
  return [
    ...randomIodepths.flatMap((iodepth): DiskPlan[] => [
      { pattern: 'randread', blockSize: '4k', iodepth },
      { pattern: 'randwrite', blockSize: '4k', iodepth },
    ]),
    { pattern: 'read', blockSize: '1m', iodepth: sequentialIodepth },
    { pattern: 'write', blockSize: '1m', iodepth: sequentialIodepth },
  ];
}

/** fio's rw name → the `pattern` label value (sequential jobs are `seqread` / `seqwrite`). */
export function patternLabel(p: FioPattern): string {
  return p === 'read' || p === 'write' ? `seq${p}` : p;
}

/** The fio job of one plan on `filename`. */
export function diskJob(
  p: DiskPlan,
  s: { filename: string; sizeBytes: number; direct: boolean; runtimeSeconds: number; ioengine: string },
): FioJob {
  return { name: `${p.pattern}_qd${p.iodepth}`, rw: p.pattern, blockSize: p.blockSize, iodepth: p.iodepth, ...s };
}

/** Labels of one job's series. */
export function diskLabels(scope: 'host' | 'sandbox', p: DiskPlan, direct: boolean): Record<string, string> {
  return { scope, pattern: patternLabel(p.pattern), iodepth: String(p.iodepth), direct: String(direct) };
}

/** The e2bbench_disk_* values of one job: IOPS, throughput, completion latency percentiles. */
export function diskSeries(
  labels: Record<string, string>,
  stats: ReturnType<typeof fioStatsFor>,
): { name: MetricName; labels: Record<string, string>; value: number }[] {
  const out: { name: MetricName; labels: Record<string, string>; value: number }[] = [
    { name: 'e2bbench_disk_iops', labels, value: stats.iops },
    { name: 'e2bbench_disk_throughput_bytes_per_second', labels, value: stats.bytesPerSecond },
  ];
  for (const percentile of ['p50', 'p95', 'p99'] as const) {
    const v = stats.clatSeconds[percentile];
    if (v !== undefined)
      out.push({ name: 'e2bbench_disk_latency_seconds', labels: { ...labels, percentile }, value: v });
  }
  return out;
}
