import { isRecord, num, parseEmbeddedJson, parseError } from './text.js';

export interface FioDirectionStats {
  ios: number;
  iops: number;
  bytesPerSecond: number;
  /** Completion latency; percentiles absent when no I/O completed in this direction. */
  clatSeconds: { mean: number; p50?: number; p95?: number; p99?: number };
}

export interface FioJobResult {
  name: string;
  /** errno of the job's first failure; 0 when it ran clean. */
  error: number;
  read: FioDirectionStats;
  write: FioDirectionStats;
}

export interface FioResult {
  version: string;
  jobs: FioJobResult[];
}

const PCTS = { p50: '50.000000', p95: '95.000000', p99: '99.000000' } as const;

function direction(job: Record<string, unknown>, dir: 'read' | 'write'): FioDirectionStats {
  const d = job[dir];
  if (!isRecord(d)) throw parseError('fio', `job without ${dir} stats`);
  const clat = isRecord(d.clat_ns) ? d.clat_ns : {};
  const pct = isRecord(clat.percentile) ? clat.percentile : {};
  const sec = (key: string) => (typeof pct[key] === 'number' ? (pct[key] as number) / 1e9 : undefined);
  return {
    ios: num('fio', d, 'total_ios'),
    iops: num('fio', d, 'iops'),
    bytesPerSecond: num('fio', d, 'bw_bytes'),
    clatSeconds: {
      mean: num('fio', d, 'clat_ns.mean') / 1e9,
      p50: sec(PCTS.p50),
      p95: sec(PCTS.p95),
      p99: sec(PCTS.p99),
    },
  };
}

/**
 * `fio --output-format=json` output. fio may print error lines before the JSON (e.g. when
 * O_DIRECT fails); they are skipped, and the job's errno is reported in `error`.
 */
export function parseFioJson(text: string): FioResult {
  const doc = parseEmbeddedJson('fio', text);
  if (!isRecord(doc) || !Array.isArray(doc.jobs) || doc.jobs.length === 0) throw parseError('fio', 'no jobs');
  const version = typeof doc['fio version'] === 'string' ? doc['fio version'].replace(/^fio-/, '') : 'unknown';
  const jobs = doc.jobs.map((job: unknown): FioJobResult => {
    if (!isRecord(job) || typeof job.jobname !== 'string') throw parseError('fio', 'job without a name');
    return {
      name: job.jobname,
      error: num('fio', job, 'error'),
      read: direction(job, 'read'),
      write: direction(job, 'write'),
    };
  });
  return { version, jobs };
}
