import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { z } from 'zod';
import { bytes, duration } from '../../src/config/schema.js';
import { ProbeError } from '../../src/probe/reasons.js';
import { defineProbe } from '../../src/probe/types.js';
import {
  bench,
  directoryExists,
  diskJob,
  diskLabels,
  diskPlans,
  diskSeries,
  fioStatsFor,
  hostExec,
  probeDirectIo,
  recordToolVersions,
  removeFile,
  runFio,
  runOptions,
  wholeSeconds,
} from '../tools/index.js';

export const hostDisk = defineProbe({
  name: 'host.disk',
  family: 'host',
  load: ['disk'],
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
      const runtimeSeconds = wholeSeconds(opts.runtime);
      const results = [];
      for (const p of diskPlans(opts.random_iodepths, opts.sequential_iodepth)) {
        const job = diskJob(p, {
          filename: file,
          sizeBytes: opts.size,
          direct,
          runtimeSeconds,
          ioengine: opts.ioengine,
        });
        const res = await bench(ctx, 'fio', () => runFio(exec, job, o), { pattern: p.pattern, iodepth: p.iodepth });
        const stats = fioStatsFor(job, res);
        const labels = diskLabels('host', p, direct);
        for (const s of diskSeries(labels, stats)) ctx.gauge(s.name, s.labels, s.value);
        results.push({ ...labels, blockSize: p.blockSize, ...stats });
      }
      ctx.detail('results', results);
      ctx.detail('fio', { version: versions.fio, directory: opts.directory, size: opts.size, direct });
    } finally {
      await remove();
    }
  },
});
