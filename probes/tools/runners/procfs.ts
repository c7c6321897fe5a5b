import { runTool, type Exec } from '../exec.js';
import {
  parseCpuinfo,
  parseHugepages,
  parseProcStat,
  parseThpMode,
  type CpuInfo,
  type HugepagesState,
  type ProcStat,
  type ThpMode,
} from '../parsers/procfs.js';
import { parseError } from '../parsers/text.js';
import type { RunOptions } from './options.js';

const QUICK_MS = 10_000;

/** Reads a file with `cat`, so the same code reads a sandbox's /proc through its Exec. */
export async function readText(exec: Exec, path: string, opts: RunOptions): Promise<string> {
  const r = await runTool(exec, 'cat', [path], { ...opts, timeoutMs: opts.timeoutMs ?? QUICK_MS });
  return r.stdout;
}

export const readCpuinfo = async (exec: Exec, opts: RunOptions): Promise<CpuInfo> =>
  parseCpuinfo(await readText(exec, '/proc/cpuinfo', opts));

export const readHugepages = async (exec: Exec, opts: RunOptions): Promise<HugepagesState> =>
  parseHugepages(await readText(exec, '/proc/meminfo', opts));

export const readProcStat = async (exec: Exec, opts: RunOptions): Promise<ProcStat> =>
  parseProcStat(await readText(exec, '/proc/stat', opts));

/** THP mode, or undefined when the kernel has no transparent huge pages. */
export async function readThpMode(exec: Exec, opts: RunOptions): Promise<ThpMode | undefined> {
  const r = await runTool(exec, 'cat', ['/sys/kernel/mm/transparent_hugepage/enabled'], {
    ...opts,
    okExitCodes: [0, 1],
    timeoutMs: opts.timeoutMs ?? QUICK_MS,
  });
  return r.exitCode === 0 ? parseThpMode(r.stdout) : undefined;
}

export async function kernelRelease(exec: Exec, opts: RunOptions): Promise<string> {
  const r = await runTool(exec, 'uname', ['-r'], { ...opts, timeoutMs: opts.timeoutMs ?? QUICK_MS });
  const rel = r.stdout.trim();
  if (!rel) throw parseError('uname', 'empty kernel release');
  return rel;
}

/** CPUs this process may run on (affinity / cpuset aware, unlike /proc/cpuinfo). */
export async function usableCpus(exec: Exec, opts: RunOptions): Promise<number> {
  const r = await runTool(exec, 'nproc', [], { ...opts, timeoutMs: opts.timeoutMs ?? QUICK_MS });
  const n = Number(r.stdout.trim());
  if (!Number.isInteger(n) || n < 1) throw parseError('nproc', 'not a CPU count', r.stdout);
  return n;
}
