import { posix } from 'node:path';
import { z } from 'zod';
import { bytes, duration } from '../../src/config/schema.js';
import { ProbeError } from '../../src/probe/reasons.js';
import { defineProbe } from '../../src/probe/types.js';
import { hasSandboxService } from '../../src/targets/connection.js';
import {
  bench,
  directoryExists,
  fioStatsFor,
  probeDirectIo,
  runFio,
  runOptions,
  type FioJob,
  type FioPattern,
} from '../tools/index.js';
import { forEachSandbox, MedianOfMedians, recordSandboxVersions, sandboxOptionsShape, wholeSeconds } from './common.js';

interface Plan {
  pattern: FioPattern;
  blockSize: string;
  iodepth: number;
}

/** The jobs of one pass: 4k random read/write at each queue depth, then 1m sequential read/write. */
export function diskPlans(randomIodepths: number[], sequentialIodepth: number): Plan[] {
  return [
    ...randomIodepths.flatMap((iodepth): Plan[] => [
      { pattern: 'randread', blockSize: '4k', iodepth },
      { pattern: 'randwrite', blockSize: '4k', iodepth },
    ]),
    { pattern: 'read', blockSize: '1m', iodepth: sequentialIodepth },
    { pattern: 'write', blockSize: '1m', iodepth: sequentialIodepth },
  ];
}

/** fio's rw name → the pattern label value the host probe uses. */
export function patternLabel(p: FioPattern): string {
  return p === 'read' || p === 'write' ? `seq${p}` : p;
}

export const sandboxDisk = defineProbe({
  name: 'sandbox.disk',
  family: 'sandbox',
  description:
    'fio inside a sandbox on a file in the configured directory, as host.disk: 4k random read/write at several queue depths, 1m sequential read/write; IOPS, throughput, completion latency; O_DIRECT probed and labelled.',
  defaults: { interval: '30m', timeout: '10m', samples: 1 },
  options: z
    .object({
      ...sandboxOptionsShape,
      /** Directory inside the sandbox (on its root disk, not a tmpfs). */
      directory: z.string().startsWith('/').default('/var/tmp'),
      /** Size of the test file. */
      size: bytes.default('256MiB'),
      /** Length of each fio job. */
      runtime: duration.default('5s'),
      ioengine: z.string().min(1).default('libaio'),
      random_iodepths: z.array(z.number().int().positive()).min(1).default([1, 4, 16]),
      sequential_iodepth: z.number().int().positive().default(16),
    })
    .strict(),
  supports: hasSandboxService,
  async run(ctx) {
    const opts = ctx.settings.options;
    const o = runOptions(ctx);
    const results = new MedianOfMedians();
    const runs: unknown[] = [];
    await forEachSandbox(ctx, async (sb, index) => {
      if (index === 0) {
        await recordSandboxVersions(ctx, sb.exec, { tools: ['fio'] });
      }
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
          const job: FioJob = {
            name: `${p.pattern}_qd${p.iodepth}`,
            filename: file,
            sizeBytes: opts.size,
            blockSize: p.blockSize,
            rw: p.pattern,
            iodepth: p.iodepth,
            direct,
            runtimeSeconds: wholeSeconds(opts.runtime),
            ioengine: opts.ioengine,
          };
          const res = await bench(ctx, 'fio', () => runFio(sb.exec, job, o), {
            pattern: p.pattern,
            iodepth: p.iodepth,
            sandbox: sb.index,
          });
          const stats = fioStatsFor(job, res);
          const labels = {
            scope: 'sandbox',
            pattern: patternLabel(p.pattern),
            iodepth: String(p.iodepth),
            direct: String(direct),
          };
          results.add(sb.index, 'e2bbench_disk_iops', labels, stats.iops);
          results.add(sb.index, 'e2bbench_disk_throughput_bytes_per_second', labels, stats.bytesPerSecond);
          for (const percentile of ['p50', 'p95', 'p99'] as const) {
            const v = stats.clatSeconds[percentile];
            if (v !== undefined) results.add(sb.index, 'e2bbench_disk_latency_seconds', { ...labels, percentile }, v);
          }
          runs.push({ sandbox: sb.index, ...labels, blockSize: p.blockSize, ...stats });
        }
      }
    });

    ctx.detail('results', results.publish(ctx));
    ctx.detail('runs', runs);
  },
});
