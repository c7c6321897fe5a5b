import { z } from 'zod';
import { runTool, type Exec } from '../exec.js';
import {
  parseSysbenchCpu,
  parseSysbenchLatencyPercentile,
  parseSysbenchMemory,
  type SysbenchCpuResult,
  type SysbenchMemoryResult,
} from '../parsers/sysbench.js';
import { timeoutFor, type RunOptions } from './options.js';

/**
 * sysbench cpu's own default, the limit published CPU scores are measured at: scores on another
 * limit are on another scale (20000 gives roughly 2.5× fewer events/s) and cannot sit beside them.
 */
export const SEED_CPU_MAX_PRIME = 10000;

export interface SysbenchCpuParams {
  threads: number;
  seconds: number;
  maxPrime?: number;
  percentile?: number;
}

export function sysbenchCpuArgs(p: SysbenchCpuParams): string[] {
  return [
    'cpu',
    `--cpu-max-prime=${p.maxPrime ?? SEED_CPU_MAX_PRIME}`,
    `--threads=${p.threads}`,
    `--time=${p.seconds}`,
    '--events=0',
    `--percentile=${p.percentile ?? 95}`,
    'run',
  ];
}

export async function runSysbenchCpu(exec: Exec, p: SysbenchCpuParams, opts: RunOptions): Promise<SysbenchCpuResult> {
  const r = await runTool(exec, 'sysbench', sysbenchCpuArgs(p), { ...opts, timeoutMs: timeoutFor(p.seconds, opts) });
  return parseSysbenchCpu(r.stdout);
}

export interface SysbenchMemoryParams {
  operation: 'read' | 'write';
  seconds: number;
  threads?: number;
  /** sysbench size syntax ("1M"); large blocks measure bandwidth rather than call overhead. */
  blockSize?: string;
  access?: 'seq' | 'rnd';
  /** Also report this latency percentile (sysbench's default is 95). */
  percentile?: number;
}

export interface SysbenchMemoryRun extends SysbenchMemoryResult {
  /** The `percentile` asked for, in seconds; absent when none was. */
  percentileSeconds?: number;
}

export function sysbenchMemoryArgs(p: SysbenchMemoryParams): string[] {
  return [
    'memory',
    `--memory-oper=${p.operation}`,
    `--memory-block-size=${p.blockSize ?? '1M'}`,
    // Big enough that --time, not the total size, ends the run.
    '--memory-total-size=100T',
    `--memory-access-mode=${p.access ?? 'seq'}`,
    `--threads=${p.threads ?? 1}`,
    `--time=${p.seconds}`,
    '--events=0',
    ...(p.percentile === undefined ? [] : [`--percentile=${p.percentile}`]),
    'run',
  ];
}

/** A `--memory-block-size` option of a probe, in sysbench's size syntax (default 1 MiB blocks). */
export const sysbenchBlockSize = z
  .string()
  .regex(/^\d+[KMG]?$/, 'expected a sysbench size such as "1M"')
  .default('1M');

export async function runSysbenchMemory(
  exec: Exec,
  p: SysbenchMemoryParams,
  opts: RunOptions,
): Promise<SysbenchMemoryRun> {
  const r = await runTool(exec, 'sysbench', sysbenchMemoryArgs(p), { ...opts, timeoutMs: timeoutFor(p.seconds, opts) });
  const result = parseSysbenchMemory(r.stdout);
  if (p.percentile === undefined) return result;
  return { ...result, percentileSeconds: parseSysbenchLatencyPercentile(r.stdout).seconds };
}
