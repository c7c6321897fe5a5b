import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { z } from 'zod';
import type { MetricName } from '../../../exporters/prometheus/catalog.js';
import type { Probe, RecordedSample } from '../../../src/probe/types.js';
import { makeTestContext, type TestContext } from '../../helpers/context.js';

/** Runs a probe like the runner would: the run, then its deferred cleanup on every path. */
export async function runProbe<S extends z.ZodTypeAny>(
  probe: Probe<S>,
  options: Record<string, unknown> = {},
  hook?: (ctx: TestContext<z.output<S>>) => void,
): Promise<TestContext<z.output<S>>> {
  const ctx = makeTestContext(probe, { options });
  hook?.(ctx);
  try {
    await probe.run(ctx);
  } finally {
    await ctx.runDeferred();
  }
  return ctx;
}

/** Samples of one family, optionally narrowed by labels. */
export function samplesOf(ctx: { samples: RecordedSample[] }, name: MetricName, labels: Record<string, string> = {}) {
  return ctx.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

export function valueOf(
  ctx: { samples: RecordedSample[] },
  name: MetricName,
  labels: Record<string, string> = {},
): number {
  const found = samplesOf(ctx, name, labels);
  if (found.length !== 1) throw new Error(`expected one ${name} ${JSON.stringify(labels)}, got ${found.length}`);
  return found[0].value;
}

/** A PATH holding only the given commands (symlinks to the real ones): every other tool is "missing". */
export function pathWith(commands: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'e2bbench-path-'));
  const searched = (process.env.PATH ?? '').split(delimiter);
  for (const c of commands) {
    const real = searched.map((d) => join(d, c)).find((p) => existsSync(p));
    if (!real) throw new Error(`${c} not on PATH`);
    symlinkSync(real, join(dir, c));
  }
  return dir;
}

/** Runs fn with process.env.PATH replaced (the host Exec resolves commands through it). */
export async function withPath<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = path;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}
