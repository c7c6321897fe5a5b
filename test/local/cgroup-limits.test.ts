import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Cgroups, type CgroupHandle } from '../../src/local/driver/cgroup.js';
import { canRunSandboxes } from './helpers.js';

// Real cgroups (v1 here, v2 where mounted) under a parent named after this process; each group
// and the parents are removed at the end.
const parent = `e2bbench-test-${process.pid}`;

/** CPU quota in CPUs (undefined = unlimited) read back from the group's own files. */
function cpuQuota(h: CgroupHandle): number | undefined {
  if (h.version === 2) {
    const [quota, period] = readFileSync(path.join(h.dirs.unified!, 'cpu.max'), 'utf8').trim().split(' ');
    return quota === 'max' ? undefined : Number(quota) / Number(period);
  }
  const quota = Number(readFileSync(path.join(h.dirs.cpu!, 'cpu.cfs_quota_us'), 'utf8'));
  const period = Number(readFileSync(path.join(h.dirs.cpu!, 'cpu.cfs_period_us'), 'utf8'));
  return quota < 0 ? undefined : quota / period;
}

describe.runIf(canRunSandboxes)('cgroup limits', () => {
  const handles: CgroupHandle[] = [];
  const groups: Cgroups[] = [];

  afterAll(async () => {
    for (const h of handles) await h.remove();
    for (const d of groups[0]?.parentDirs() ?? []) if (existsSync(d)) rmdirSync(d);
  });

  async function create(name: string, limits: boolean, background = false): Promise<CgroupHandle> {
    const cg = Cgroups.detect(parent, { limits });
    groups.push(cg);
    const h = await cg.create(name, { cpuCount: 0.5, memoryMb: 64, pidsMax: 100, background });
    handles.push(h);
    return h;
  }

  it('enforce a fractional CPU quota and the memory limit by default', async () => {
    const h = await create('on', true);
    expect(cpuQuota(h)).toBeCloseTo(0.5);
    expect((await h.stats()).memoryLimitBytes).toBe(64 * 1024 * 1024);
  });

  it('a background group starts at the lowest CPU weight and gets the default one in the foreground', async () => {
    const bg = await create('background', true, true);
    const fg = await create('normal', true);
    expect(await bg.weight()).toBe('low');
    expect(await fg.weight()).toBe('normal');
    await bg.foreground();
    expect(await bg.weight()).toBe('normal');
  });

  it('with limits off: the group exists (freeze, kill, stats) but caps neither CPU nor memory', async () => {
    const h = await create('off', false);
    expect(h.procsFiles.every((f) => existsSync(f))).toBe(true);
    expect(cpuQuota(h)).toBeUndefined();
    // Unlimited: v2 "max", v1 the kernel's page-rounded maximum; both read back as no limit.
    expect((await h.stats()).memoryLimitBytes).toBeUndefined();
  });
});
