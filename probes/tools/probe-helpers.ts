import type { ProbeContext } from '../../src/probe/types.js';
import type { Exec } from './exec.js';
import type { RunOptions } from './runners/options.js';
import { toolVersion } from './runners/versions.js';

/** Runner options bound to the probe run (its abort signal). */
export function runOptions(ctx: ProbeContext<unknown>, extra: Partial<RunOptions> = {}): RunOptions {
  return { signal: ctx.signal, ...extra };
}

/** One tool invocation as a `bench.<tool>` phase span; returns the tool's result. */
export async function bench<T>(
  ctx: ProbeContext<unknown>,
  tool: string,
  fn: () => Promise<T>,
  attributes?: Record<string, string | number>,
): Promise<T> {
  return (await ctx.phase(`bench.${tool}`, () => fn(), attributes)).value;
}

/**
 * Looks up the versions of the tools a probe is about to run (a missing one fails the probe
 * with tool_missing before any measurement) and records them as e2bbench_tool_info and in the
 * run record.
 */
export async function recordToolVersions(
  ctx: ProbeContext<unknown>,
  exec: Exec,
  tools: string[],
): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const tool of tools) versions[tool] = await toolVersion(exec, tool, runOptions(ctx));
  publishVersions(ctx, versions);
  return versions;
}

export function publishVersions(ctx: ProbeContext<unknown>, versions: Record<string, string>): void {
  for (const [tool, version] of Object.entries(versions)) {
    ctx.gauge('e2bbench_tool_info', { probe: ctx.probe, tool, version }, 1);
  }
  ctx.detail('versions', versions);
}
