import { ProbeError } from '../../../src/probe/reasons.js';
import { runTool, type Exec } from '../exec.js';
import {
  parseStressNgMetricsBrief,
  parseStressNgYaml,
  type StressNgMetric,
  type StressNgResult,
} from '../parsers/stress-ng.js';
import { timeoutFor, type RunOptions } from './options.js';

/**
 * Runs stress-ng with metrics; the YAML report goes to stdout (a file would have to be read back
 * from wherever the command ran), the brief table to stderr as a fallback.
 */
export async function runStressNg(
  exec: Exec,
  args: string[],
  seconds: number,
  opts: RunOptions,
): Promise<StressNgResult> {
  const r = await runTool(
    exec,
    'stress-ng',
    [...args, '--timeout', `${seconds}s`, '--metrics-brief', '--yaml', '/dev/stdout'],
    {
      ...opts,
      timeoutMs: timeoutFor(seconds, opts),
    },
  );
  try {
    return parseStressNgYaml(r.stdout);
  } catch (err) {
    if (/metrc:/.test(r.stderr)) return parseStressNgMetricsBrief(r.stderr);
    throw err;
  }
}

export interface StressNgVmParams {
  seconds: number;
  bytes: number;
  workers?: number;
  /** --vm-method; rand-set touches pages at random, so it is bound by TLB reach. */
  method?: string;
  madvise?: 'hugepage' | 'nohugepage' | 'normal';
}

export function stressNgVmArgs(p: StressNgVmParams): string[] {
  return [
    '--vm',
    String(p.workers ?? 1),
    '--vm-bytes',
    String(p.bytes),
    '--vm-method',
    p.method ?? 'rand-set',
    ...(p.madvise ? ['--vm-madvise', p.madvise] : []),
  ];
}

export async function runStressNgVm(exec: Exec, p: StressNgVmParams, opts: RunOptions): Promise<StressNgMetric> {
  const res = await runStressNg(exec, stressNgVmArgs(p), p.seconds, opts);
  const row = res.metrics.find((m) => m.stressor === 'vm');
  if (!row) throw new ProbeError('parse_error', 'stress-ng output: no vm stressor row');
  return row;
}
