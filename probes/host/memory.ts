import { z } from 'zod';
import { bytes, duration } from '../../src/config/schema.js';
import { defineProbe } from '../../src/probe/types.js';
import { localBenchScript } from '../../src/template/bench-scripts.js';
import {
  bench,
  hostExec,
  publishVersions,
  runMemoryLatency,
  runOptions,
  runSysbenchMemory,
  sysbenchBlockSize,
  toolVersion,
  wholeSeconds,
} from '../tools/index.js';

export const hostMemory = defineProbe({
  name: 'host.memory',
  family: 'host',
  load: ['cpu', 'memory'],
  description:
    'sysbench memory on the host: sequential read and write bandwidth with 1 MiB blocks; load latency from a pointer chase over a working set larger than the last-level cache (bench/memlat.mjs).',
  defaults: { interval: '10m', timeout: '2m' },
  options: z
    .object({
      /** Length of each sysbench run. */
      time: duration.default('10s'),
      threads: z.number().int().positive().default(1),
      block_size: sysbenchBlockSize,
      /** Working set of the latency chase: far larger than the last-level cache. */
      latency_size: bytes.default('256MiB'),
      /** Timed part of the latency chase (after one untimed pass over the working set). */
      latency_time: duration.default('2s'),
    })
    .strict(),
  async run(ctx) {
    const exec = hostExec;
    const opts = ctx.settings.options;
    // The exporter's own Node.js runs the latency script, as `node` does in the sandboxes.
    publishVersions(ctx, {
      sysbench: await toolVersion(exec, 'sysbench', runOptions(ctx)),
      node: process.versions.node,
    });
    const seconds = wholeSeconds(opts.time);
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

    const latency = await bench(
      ctx,
      'memlat',
      async () =>
        runMemoryLatency(
          exec,
          {
            node: process.execPath,
            script: await localBenchScript('memlat.mjs'),
            bytes: opts.latency_size,
            seconds: Math.max(0.1, opts.latency_time / 1000),
          },
          runOptions(ctx),
        ),
      { bytes: opts.latency_size },
    );
    ctx.gauge('e2bbench_memory_latency_seconds', { scope: 'host' }, latency.medianSeconds);
    ctx.detail('latency', latency);
  },
});
