import { expect } from 'vitest';
import type { z } from 'zod';
import { StorageSchema, type TargetConfig } from '../../src/config/schema.js';
import { ProbeError } from '../../src/probe/reasons.js';
import type { Probe } from '../../src/probe/types.js';
import { makeTestContext, type TestContext } from '../helpers/context.js';

export type StorageInput = z.input<typeof StorageSchema>;

export function storageTarget(
  name: string,
  storage: StorageInput,
  extra: Partial<TargetConfig> = {},
): Partial<TargetConfig> {
  return { name, storage: StorageSchema.parse(storage), ...extra };
}

export interface Ran<O> {
  ctx: TestContext<O>;
  error?: unknown;
}

/** Runs a probe like the runner does: the run, then the deferred cleanups whatever happened. */
export async function runProbe<S extends z.ZodTypeAny>(
  probe: Probe<S>,
  target: Partial<TargetConfig>,
  options: Record<string, unknown> = {},
  samples?: number,
  during?: (ctx: TestContext<z.output<S>>) => void,
): Promise<Ran<z.output<S>>> {
  const ctx = makeTestContext(probe, { target, options, samples });
  during?.(ctx);
  let error: unknown;
  try {
    await probe.run(ctx);
  } catch (err) {
    error = err;
  }
  await ctx.runDeferred();
  return { ctx, error };
}

/** The failure is classified, names the target and bucket, and leaks none of the secrets. */
export function expectStorageFailure(
  error: unknown,
  reason: string,
  target: string,
  bucket: string,
  secrets: string[],
): void {
  expect(error).toBeInstanceOf(ProbeError);
  const e = error as ProbeError;
  expect(e.reason, e.message).toBe(reason);
  expect(e.message).toContain(`"${target}"`);
  expect(e.message).toContain(`"${bucket}"`);
  // nothing the error carries (message, stack, own properties) holds a secret
  const everything = JSON.stringify({ ...e, message: e.message, stack: e.stack });
  for (const s of secrets) expect(everything).not.toContain(s);
}

export function gaugeValue(
  ctx: TestContext<unknown>,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  return ctx.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

export function observationsOf(ctx: TestContext<unknown>, labels: Record<string, string>): number[] {
  return ctx.observations
    .filter(
      (s) =>
        s.name === 'e2bbench_storage_operation_seconds' && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    )
    .map((s) => s.value);
}
