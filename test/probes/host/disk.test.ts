import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostDisk } from '../../../probes/host/index.js';
import { ProbeError } from '../../../src/probe/reasons.js';
import { makeTestContext } from '../../helpers/context.js';
import { pidsMatching, waitUntil } from '../../helpers/processes.js';
import { runProbe, samplesOf } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'e2bbench-disk-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const freshDir = (name: string): string => mkdtempSync(join(root, `${name}-`));

describe('host.disk', () => {
  it('runs the fio plan and removes its file', async () => {
    const directory = freshDir('plan');
    const ctx = await runProbe(hostDisk, { directory, size: '8MiB', runtime: '1s' });
    const iops = samplesOf(ctx, 'e2bbench_disk_iops');
    const plan = iops.map((s) => `${s.labels.pattern}@${s.labels.iodepth}`);
    expect(plan).toEqual([
      'randread@1',
      'randwrite@1',
      'randread@4',
      'randwrite@4',
      'randread@16',
      'randwrite@16',
      'seqread@16',
      'seqwrite@16',
    ]);
    for (const s of iops) {
      expect(s.value).toBeGreaterThan(0);
      expect(s.labels.scope).toBe('host');
      // A single O_DIRECT verdict for the whole run.
      expect(s.labels.direct).toBe(iops[0].labels.direct);
      const labels = s.labels;
      const [bw] = samplesOf(ctx, 'e2bbench_disk_throughput_bytes_per_second', labels);
      expect(bw.value).toBeGreaterThan(0);
      const lat = (percentile: string) =>
        samplesOf(ctx, 'e2bbench_disk_latency_seconds', { ...labels, percentile })[0].value;
      expect(lat('p50')).toBeGreaterThan(0);
      expect(lat('p50')).toBeLessThanOrEqual(lat('p95'));
      expect(lat('p95')).toBeLessThanOrEqual(lat('p99'));
    }
    expect(['true', 'false']).toContain(iops[0].labels.direct);
    expect(ctx.phases.filter((p) => p.name === 'bench.fio')).toHaveLength(9); // direct probe + 8 jobs
    expect(ctx.details.versions).toHaveProperty('fio');
    expect(readdirSync(directory)).toEqual([]);
  });

  it('abort mid-job leaves no fio process and no file', async () => {
    const directory = freshDir('abort');
    const ctx = makeTestContext(hostDisk, {
      options: { directory, size: '8MiB', runtime: '60s', random_iodepths: [1] },
    });
    const run = (async () => {
      try {
        await hostDisk.run(ctx);
      } finally {
        await ctx.runDeferred();
      }
    })();
    // The unique directory name marks our fio in the process table.
    await waitUntil(() => pidsMatching('fio', directory).length > 0 && readdirSync(directory).length > 0);
    await new Promise((r) => setTimeout(r, 300));
    ctx.abort();
    await expect(run).rejects.toBeDefined();
    expect(pidsMatching('fio', directory)).toEqual([]);
    expect(readdirSync(directory)).toEqual([]);
  });

  it('a directory that does not exist is command_failed', async () => {
    const err = await runProbe(hostDisk, {
      directory: join(root, 'missing', 'deeper'),
      size: '4MiB',
      runtime: '1s',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProbeError);
    expect((err as ProbeError).reason).toBe('command_failed');
    expect((err as ProbeError).message).toMatch(/does not exist/);
    // fio would have created it; the probe must not.
    expect(readdirSync(root)).not.toContain('missing');
  });

  it('options are strict and sizes parse', () => {
    expect(hostDisk.options!.parse({ size: '16MiB' }).size).toBe(16 * 1024 * 1024);
    expect(() => hostDisk.options!.parse({ size: 'big' })).toThrow();
    expect(() => hostDisk.options!.parse({ dir: '/x' })).toThrow();
  });
});
