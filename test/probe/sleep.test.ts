import { describe, expect, it } from 'vitest';
import { sleep } from '../../src/probe/sleep.js';

describe('sleep', () => {
  it('resolves after its time', async () => {
    const t0 = performance.now();
    await sleep(20);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(19);
  });

  it('rejects with the abort reason when aborted while waiting, and at once when already aborted', async () => {
    const ac = new AbortController();
    const reason = new Error('run timed out');
    const waiting = sleep(60_000, ac.signal);
    ac.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(sleep(60_000, ac.signal)).rejects.toBe(reason);
  });
});
