import { runTool, type Exec } from '../exec.js';
import { parseMemoryLatency, type MemoryLatencyResult } from '../parsers/memlat.js';
import { timeoutFor, type RunOptions } from './options.js';

export interface MemoryLatencyParams {
  /** Node.js command that runs the script (`node` in a sandbox, this process's binary on the host). */
  node: string;
  /** Path of e2b-template/bench/memlat.mjs where `node` runs. */
  script: string;
  bytes: number;
  seconds: number;
}

export function memoryLatencyArgs(p: MemoryLatencyParams): string[] {
  return [p.script, '--bytes', String(p.bytes), '--seconds', String(p.seconds)];
}

/**
 * Pointer chase over `bytes` (memlat.mjs). Before the timed part the script shuffles and walks
 * every line once: allow ~4 µs per line for that on top of the planned seconds.
 */
export async function runMemoryLatency(
  exec: Exec,
  p: MemoryLatencyParams,
  opts: RunOptions,
): Promise<MemoryLatencyResult> {
  const timeoutMs = opts.timeoutMs ?? timeoutFor(p.seconds, opts) + Math.ceil((p.bytes / 64) * 0.004);
  const r = await runTool(exec, p.node, memoryLatencyArgs(p), { ...opts, timeoutMs });
  return parseMemoryLatency(r.stdout);
}
