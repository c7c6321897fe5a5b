import { ProbeError } from '../../../src/probe/reasons.js';
import { runTool, type Exec } from '../exec.js';
import { parseToolVersion } from '../parsers/versions.js';
import type { RunOptions } from './options.js';

/** `<tool> --version` → version number; a missing tool → tool_missing. */
export async function toolVersion(exec: Exec, tool: string, opts: RunOptions): Promise<string> {
  const r = await runTool(exec, tool, ['--version'], { ...opts, timeoutMs: opts.timeoutMs ?? 10_000 });
  return parseToolVersion(tool, r.stdout || r.stderr);
}

/** Like toolVersion, but "not_installed" instead of failing (for inventory probes). */
export async function toolVersionOrMissing(exec: Exec, tool: string, opts: RunOptions): Promise<string> {
  try {
    return await toolVersion(exec, tool, opts);
  } catch (err) {
    if (err instanceof ProbeError && err.reason === 'tool_missing') return 'not_installed';
    throw err;
  }
}
