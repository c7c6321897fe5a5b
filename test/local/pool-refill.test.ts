import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCgroupMounts, parseProcCgroup } from '../../src/local/driver/cgroup-parse.js';
import { canRunSandboxes, startFixture, type RuntimeFixture } from './helpers.js';

/** A group's CPU weight file (v1 cpu.shares, v2 cpu.weight) from the path in /proc/PID/cgroup. */
function weightFile(procCgroup: string): string {
  const layout = parseCgroupMounts(readFileSync('/proc/self/mounts', 'utf8'));
  const own = parseProcCgroup(procCgroup);
  return layout.v2 !== undefined
    ? path.join(layout.v2, own['']!, 'cpu.weight')
    : path.join(layout.v1.cpu!, own.cpu!, 'cpu.shares');
}

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

  it('boots pool sandboxes at the lowest CPU weight; a claimed one gets the default weight', async () => {
    expect(await waitIdle(1, 30_000)).toBe(1);
    const sb = await fx.create();
    // The namespace driver shares the host's cgroup namespace: the path inside is the host's.
    const own = weightFile((await sb.commands.run('cat /proc/self/cgroup')).stdout);
    expect(['1024', '100']).toContain(readFileSync(own, 'utf8').trim());
    // That first command let the refill start: the next pool sandbox is the sibling group.
    expect(await waitIdle(1, 30_000)).toBe(1);
    const parent = path.dirname(path.dirname(own));
    const siblings = readdirSync(parent, { withFileTypes: true })
      .filter((d) => d.isDirectory() && path.join(parent, d.name) !== path.dirname(own))
      .map((d) => readFileSync(path.join(parent, d.name, path.basename(own)), 'utf8').trim());
    expect(siblings).toEqual([own.endsWith('cpu.weight') ? '1' : '2']);
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
