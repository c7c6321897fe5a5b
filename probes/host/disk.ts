import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { z } from 'zod';
import { bytes, duration } from '../../src/config/schema.js';
import { ProbeError } from '../../src/probe/reasons.js';
import { defineProbe } from '../../src/probe/types.js';
import {
  bench,
  directoryExists,
  fioStatsFor,
  hostExec,
  probeDirectIo,
  recordToolVersions,
  removeFile,
  runFio,
  runOptions,
  type FioPattern,
} from '../tools/index.js';

interface Plan {
  pattern: FioPattern;
  blockSize: string;
  iodepth: number;
}

export const hostDisk = defineProbe({
  name: 'host.disk',
  family: 'host',
  description:
    'fio on a file in the configured directory: 4k random read/write at several queue depths, 1m sequential read/write; IOPS, throughput, completion latency; O_DIRECT probed and labelled.',
  defaults: { interval: '30m', timeout: '5m' },
  options: z
    .object({
      /** Directory on the disk to measure (a disk-backed path, not tmpfs). */
      directory: z.string().min(1).default('/var/tmp'),
      /** Size of the test file. */
      size: bytes.default('256MiB'),
      /** Length of each fio job. */
      runtime: duration.default('5s'),
      ioengine: z.string().min(1).default('libaio'),
      random_iodepths: z.array(z.number().int().positive()).default([1, 4, 16]),
      sequential_iodepth: z.number().int().positive().default(16),
    })
    .strict(),
  async run(ctx) {
    const exec = hostExec;
    const o = runOptions(ctx);
    const opts = ctx.settings.options;
    const versions = await recordToolVersions(ctx, exec, ['fio']);
    if (!(await directoryExists(exec, opts.directory, o))) {
      throw new ProbeError('command_failed', `host.disk: directory ${opts.directory} does not exist`);
    }
    const file = posix.join(opts.directory, `e2bbench-fio-${randomBytes(6).toString('hex')}.dat`);
    // Removed here and, should the run be cut short before finally runs, by the runner.
    const remove = async () => {
      if (!(await removeFile(exec, file))) ctx.log(`could not remove fio test file ${file}`);
    };
    ctx.defer('remove fio test file', remove);
    try {
      const direct = await bench(ctx, 'fio', () => probeDirectIo(exec, file, o), { job: 'direct_probe' });
      if (!direct) ctx.log(`O_DIRECT not supported in ${opts.directory}: buffered I/O (direct="false")`);
      const plans: Plan[] = [
        ...opts.random_iodepths.flatMap((iodepth): Plan[] => [
          { pattern: 'randread', blockSize: '4k', iodepth },
          { pattern: 'randwrite', blockSize: '4k', iodepth },
        ]),
        { pattern: 'read', blockSize: '1m', iodepth: opts.sequential_iodepth },
        { pattern: 'write', blockSize: '1m', iodepth: opts.sequential_iodepth },
      ];
      const runtimeSeconds = Math.max(1, Math.round(opts.runtime / 1000));
      const results = [];
      for (const p of plans) {
        const job = {
          ...p,
          name: `${p.pattern}_qd${p.iodepth}`,
          rw: p.pattern,
          filename: file,
          sizeBytes: opts.size,
          direct,
          runtimeSeconds,
          ioengine: opts.ioengine,
        };
        const res = await bench(ctx, 'fio', () => runFio(exec, job, o), { pattern: p.pattern, iodepth: p.iodepth });
        const stats = fioStatsFor(job, res);
        const pattern = p.pattern === 'read' || p.pattern === 'write' ? `seq${p.pattern}` : p.pattern;
        const labels = { scope: 'host', pattern, iodepth: String(p.iodepth), direct: String(direct) };
        ctx.gauge('e2bbench_disk_iops', labels, stats.iops);
        ctx.gauge('e2bbench_disk_throughput_bytes_per_second', labels, stats.bytesPerSecond);
        for (const percentile of ['p50', 'p95', 'p99'] as const) {
          const v = stats.clatSeconds[percentile];
          if (v !== undefined) ctx.gauge('e2bbench_disk_latency_seconds', { ...labels, percentile }, v);
        }
        results.push({ ...labels, blockSize: p.blockSize, ...stats });
      }
      ctx.detail('results', results);
      ctx.detail('fio', { version: versions.fio, directory: opts.directory, size: opts.size, direct });
    } finally {
      await remove();
    }
  },
});
