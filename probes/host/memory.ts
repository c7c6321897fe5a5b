import { z } from 'zod';
import { duration } from '../../src/config/schema.js';
import { defineProbe } from '../../src/probe/types.js';
import { bench, hostExec, recordToolVersions, runOptions, runSysbenchMemory } from '../tools/index.js';

export const hostMemory = defineProbe({
  name: 'host.memory',
  family: 'host',
  load: ['cpu', 'memory'],
  description: 'sysbench memory on the host: sequential read and write bandwidth with 1 MiB blocks.',
  defaults: { interval: '10m', timeout: '2m' },
  options: z
    .object({
      /** Length of each sysbench run. */
      time: duration.default('10s'),
      threads: z.number().int().positive().default(1),
      /** sysbench size syntax. */
      block_size: z
        .string()
        .regex(/^\d+[KMG]?$/, 'expected a sysbench size such as "1M"')
        .default('1M'),
    })
    .strict(),
  async run(ctx) {
    const exec = hostExec;
    const opts = ctx.settings.options;
    await recordToolVersions(ctx, exec, ['sysbench']);
    const seconds = Math.max(1, Math.round(opts.time / 1000));
    const results = [];
    for (const operation of ['read', 'write'] as const) {
      const r = await bench(
        ctx,
        'sysbench',
        () =>
          runSysbenchMemory(
            exec,
            { operation, seconds, threads: opts.threads, blockSize: opts.block_size },
            runOptions(ctx),
          ),
        { test: 'memory', operation },
      );
      ctx.gauge('e2bbench_memory_bandwidth_bytes_per_second', { scope: 'host', operation }, r.bytesPerSecond);
      results.push(r);
    }
    ctx.detail('results', results);
  },
});
