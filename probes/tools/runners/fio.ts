import { ProbeError } from '../../../src/probe/reasons.js';
import { outputTail, runTool, type Exec } from '../exec.js';
import { parseFioJson, type FioJobResult } from '../parsers/fio.js';
import { timeoutFor, type RunOptions } from './options.js';

export type FioPattern = 'randread' | 'randwrite' | 'read' | 'write';

export interface FioJob {
  name: string;
  filename: string;
  sizeBytes: number;
  /** fio size syntax: "4k", "1m". */
  blockSize: string;
  rw: FioPattern;
  iodepth: number;
  direct: boolean;
  /** Time-based run of this length; absent = one pass over sizeBytes. */
  runtimeSeconds?: number;
  ioengine?: string;
}

export function fioArgs(job: FioJob): string[] {
  return [
    `--name=${job.name}`,
    // fio reads ':' in --filename as a list separator.
    `--filename=${job.filename.replace(/:/g, '\\:')}`,
    `--size=${job.sizeBytes}`,
    `--bs=${job.blockSize}`,
    `--rw=${job.rw}`,
    `--iodepth=${job.iodepth}`,
    `--ioengine=${job.ioengine ?? 'libaio'}`,
    `--direct=${job.direct ? 1 : 0}`,
    ...(job.runtimeSeconds === undefined ? [] : [`--runtime=${job.runtimeSeconds}`, '--time_based']),
    '--group_reporting',
    '--output-format=json',
  ];
}

/** Stats of the direction the pattern exercises. */
export function fioStatsFor(job: Pick<FioJob, 'rw'>, result: FioJobResult) {
  return job.rw === 'randread' || job.rw === 'read' ? result.read : result.write;
}

/** Runs one fio job; a job that reports an errno fails the run with fio's own message. */
export async function runFio(exec: Exec, job: FioJob, opts: RunOptions): Promise<FioJobResult> {
  const r = await runTool(exec, 'fio', fioArgs(job), {
    ...opts,
    okExitCodes: [0, 1],
    timeoutMs: timeoutFor(job.runtimeSeconds ?? 10, opts),
  });
  const parsed = r.exitCode === 0 || /^\{/m.test(r.stdout) ? parseFioJson(r.stdout) : undefined;
  const res = parsed?.jobs[0];
  if (r.exitCode !== 0 || !res || res.error !== 0) {
    const why = outputTail(r.stderr || r.stdout.split(/^\{/m)[0] || `error ${res?.error}`);
    throw new ProbeError('command_failed', `fio ${job.name} failed${why ? `: ${why}` : ''}`);
  }
  return res;
}

/**
 * Whether O_DIRECT works for files at `filename` (tmpfs before Linux 6.6, some FUSE and overlay
 * set-ups refuse it). A tiny direct write; if that fails but a buffered one works, the answer is no.
 * If neither works the buffered failure is raised (the directory itself is unusable).
 */
export async function probeDirectIo(exec: Exec, filename: string, opts: RunOptions): Promise<boolean> {
  const job = (direct: boolean): FioJob => ({
    name: 'direct_probe',
    filename,
    sizeBytes: 64 * 1024,
    blockSize: '4k',
    rw: 'write',
    iodepth: 1,
    direct,
    ioengine: 'psync',
  });
  const r = await runTool(exec, 'fio', fioArgs(job(true)), {
    ...opts,
    okExitCodes: [0, 1],
    timeoutMs: timeoutFor(5, opts),
  });
  if (r.exitCode === 0 && parseFioJson(r.stdout).jobs[0]?.error === 0) return true;
  await runFio(exec, job(false), opts);
  return false;
}
