import { expect } from 'vitest';
import { ProbeError, type FailureReason } from '../../../src/probe/reasons.js';

export function expectProbeError(fn: () => unknown, reason: FailureReason, message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ProbeError);
  expect((caught as ProbeError).reason).toBe(reason);
  if (message) expect((caught as ProbeError).message).toMatch(message);
}

export async function expectProbeErrorAsync(
  p: Promise<unknown>,
  reason: FailureReason,
  message?: RegExp,
): Promise<ProbeError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProbeError);
  expect((err as ProbeError).reason).toBe(reason);
  if (message) expect((err as ProbeError).message).toMatch(message);
  return err as ProbeError;
}
