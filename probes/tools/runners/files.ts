import { runTool, type Exec } from '../exec.js';
import type { RunOptions } from './options.js';

/**
 * Removes a file the benchmark created; false if that failed. Runs on its own short timeout,
 * not the probe's signal: cleanup must still happen after the run was aborted. Never throws, so
 * it cannot mask the error that ended the run.
 */
export async function removeFile(exec: Exec, path: string): Promise<boolean> {
  try {
    const r = await exec('rm', ['-f', '--', path], { signal: AbortSignal.timeout(15_000), timeoutMs: 10_000 });
    return r.exitCode === 0;
  } catch {
    return false;
  }
}

/** Whether `path` is an existing directory (fio would silently create a mistyped one). */
export async function directoryExists(exec: Exec, path: string, opts: RunOptions): Promise<boolean> {
  const r = await runTool(exec, 'test', ['-d', path], {
    ...opts,
    okExitCodes: [0, 1],
    timeoutMs: opts.timeoutMs ?? 10_000,
  });
  return r.exitCode === 0;
}
