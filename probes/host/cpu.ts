import { z } from 'zod';
import { duration } from '../../src/config/schema.js';
import { defineProbe } from '../../src/probe/types.js';
import {
  bench,
  coefficientOfVariation,
  hostExec,
  readProcStat,
  recordToolVersions,
  runOptions,
  runSysbenchCpu,
  SEED_CPU_MAX_PRIME,
  sampleCpuMhz,
  stealRatio,
  usableCpus,
  wholeSeconds,
} from '../tools/index.js';

export const hostCpu = defineProbe({
  name: 'host.cpu',
  family: 'host',
  load: ['cpu'],
  description:
    'sysbench cpu (--cpu-max-prime=10000, as the seed ran it) on the host, one thread and all CPUs: events/s, p95 event latency, steal, frequency stability.',
  defaults: { interval: '10m', timeout: '2m' },
  options: z
    .object({
      /** Length of each sysbench run. */
      time: duration.default('10s'),
      max_prime: z.number().int().positive().default(SEED_CPU_MAX_PRIME),
      /** Thread counts to run; default 1 and every usable CPU. */
      threads: z.array(z.number().int().positive()).min(1).optional(),
    })
    .strict(),
  async run(ctx) {
    const exec = hostExec;
    const o = runOptions(ctx);
    const opts = ctx.settings.options;
    await recordToolVersions(ctx, exec, ['sysbench']);
    const threads = opts.threads ?? [...new Set([1, await usableCpus(exec, o)])];
    const seconds = wholeSeconds(opts.time);

    const statBefore = await readProcStat(exec, o);
    const mhz = sampleCpuMhz(exec, ctx.signal, 1000);
    const results = [];
    let samples: number[] = [];
    try {
      for (const t of threads) {
        const r = await bench(
          ctx,
          'sysbench',
          () => runSysbenchCpu(exec, { threads: t, seconds, maxPrime: opts.max_prime }, o),
          {
            test: 'cpu',
            threads: t,
          },
        );
        const labels = { scope: 'host', threads: String(t) };
        ctx.gauge('e2bbench_cpu_events_per_second', labels, r.eventsPerSecond);
        ctx.gauge('e2bbench_cpu_event_latency_seconds', { ...labels, percentile: 'p95' }, r.latencySeconds.percentile);
        results.push(r);
      }
    } finally {
      samples = await mhz.stop();
    }
    ctx.detail('mhz_samples', samples);
    if (samples.length >= 2)
      ctx.gauge('e2bbench_cpu_frequency_cv_ratio', { scope: 'host' }, coefficientOfVariation(samples));
    ctx.gauge('e2bbench_cpu_steal_ratio', { scope: 'host' }, stealRatio(statBefore, await readProcStat(exec, o)));
    ctx.detail('results', results);
  },
});
