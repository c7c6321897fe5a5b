import { posix } from 'node:path';
import { z } from 'zod';
import { bytes, duration } from '../../src/config/schema.js';
import { ProbeError } from '../../src/probe/reasons.js';
import {
  bench,
  diskJob,
  diskLabels,
  diskPlans,
  diskSeries,
  directoryExists,
  fioStatsFor,
  probeDirectIo,
  runFio,
  runOptions,
  wholeSeconds,
} from '../tools/index.js';
import { measureSandboxes, defineSandboxProbe } from './common.js';

export const sandboxDisk = defineSandboxProbe({
  name: 'sandbox.disk',
  description:
    'fio inside a sandbox on a file in the configured directory, as host.disk: 4k random read/write at several queue depths, 1m sequential read/write; IOPS, throughput, completion latency; O_DIRECT probed and labelled.',
  defaults: { interval: '30m', timeout: '10m', samples: 1 },
  options: {
    /** Directory inside the sandbox (on its root disk, not a tmpfs). */
    directory: z.string().startsWith('/').default('/var/tmp'),
    /** Size of the test file. */
    size: bytes.default('256MiB'),
    /** Length of each fio job. */
    runtime: duration.default('5s'),
    ioengine: z.string().min(1).default('libaio'),
    random_iodepths: z.array(z.number().int().positive()).min(1).default([1, 4, 16]),
    sequential_iodepth: z.number().int().positive().default(16),
  },
  load: ['disk'],
  async run(ctx) {
    const opts = ctx.settings.options;
    const o = runOptions(ctx);
    await measureSandboxes(ctx, { versions: { tools: ['fio'] }, raw: 'runs' }, async (sb, m) => {
      if (!(await directoryExists(sb.exec, opts.directory, o))) {
        throw new ProbeError(
          'command_failed',
          `sandbox.disk: directory ${opts.directory} does not exist in the sandbox`,
        );
      }
      // The file goes with the sandbox, which is killed right after this function.
      const file = posix.join(opts.directory, 'e2bbench-fio.dat');
      const direct = await bench(ctx, 'fio', () => probeDirectIo(sb.exec, file, o), { job: 'direct_probe' });
      if (!direct)
        ctx.log(`O_DIRECT not supported in ${opts.directory} inside the sandbox: buffered I/O (direct="false")`);
      for (let i = 0; i < ctx.settings.samples; i++) {
        for (const p of diskPlans(opts.random_iodepths, opts.sequential_iodepth)) {
          const job = diskJob(p, {
            filename: file,
            sizeBytes: opts.size,
            direct,
            runtimeSeconds: wholeSeconds(opts.runtime),
            ioengine: opts.ioengine,
          });
          const res = await bench(ctx, 'fio', () => runFio(sb.exec, job, o), {
            pattern: p.pattern,
            iodepth: p.iodepth,
            sandbox: sb.index,
          });
          const stats = fioStatsFor(job, res);
          const labels = diskLabels('sandbox', p, direct);
          for (const x of diskSeries(labels, stats)) m.add(x.name, x.labels, x.value);
          m.keep({ ...labels, blockSize: p.blockSize, ...stats });
        }
      }
    });
  },
});
