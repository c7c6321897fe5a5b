import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRunSandboxes, startFixture, type RuntimeFixture } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!canRunSandboxes)('local runtime: the warm pool refills off the start path', () => {
  let fx: RuntimeFixture;
  const idle = async () =>
    ((await (await fx.admin('GET', '/admin/status')).json()) as { pool: Record<string, number> }).pool.base ?? 0;
  const waitIdle = async (want: number, ms: number) => {
    const deadline = Date.now() + ms;
    while ((await idle()) !== want && Date.now() < deadline) await sleep(50);
    return idle();
  };

  beforeAll(async () => {
    // A cap far beyond the test, so only the first command (or the sandbox going) can start a refill.
    fx = await startFixture({ poolSize: 1, poolRefillDeferMs: 600_000 });
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it('waits for the first command of the sandbox that took from the pool', async () => {
    expect(await waitIdle(1, 30_000)).toBe(1);
    const sb = await fx.create();
    // Long enough for a refill started at once to have finished here.
    await sleep(1500);
    expect(await idle()).toBe(0);
    expect((await sb.commands.run('echo first')).stdout).toBe('first\n');
    expect(await waitIdle(1, 30_000)).toBe(1);
    await sb.kill();
  });

  it('refills when that sandbox goes before running anything', async () => {
    expect(await waitIdle(1, 30_000)).toBe(1);
    const sb = await fx.create();
    await sleep(500);
    expect(await idle()).toBe(0);
    await sb.kill();
    expect(await waitIdle(1, 30_000)).toBe(1);
  });
});
