import { z } from 'zod';
import { duration } from '../../src/config/schema.js';
import { ProbeError } from '../../src/probe/reasons.js';
import { median } from '../../src/stats/summary.js';
import {
  bench,
  coefficientOfVariation,
  hostExec,
  readProcStat,
  runOptions,
  runSysbenchCpu,
  SEED_CPU_MAX_PRIME,
  sampleCpuMhz,
  stealRatio,
  toolVersion,
  usableCpus,
  wholeSeconds,
} from '../tools/index.js';
import { measureSandboxes, defineSandboxProbe, threadsFor } from './common.js';

export const sandboxCpu = defineSandboxProbe({
  name: 'sandbox.cpu',
  description:
    'sysbench cpu (--cpu-max-prime=10000, as the seed ran it) inside a sandbox at one thread and its vCPU count: events/s, p95 latency, steal from /proc/stat, MHz stability; virtualization overhead against the same sysbench run on the host the exporter runs on.',
  defaults: { interval: '15m', timeout: '5m', samples: 3 },
  options: {
    /** Length of each sysbench run. */
    time: duration.default('5s'),
    max_prime: z.number().int().positive().default(SEED_CPU_MAX_PRIME),
    /** Thread counts; default 1 and the sandbox's vCPU count. */
    threads: z.array(z.number().int().positive()).min(1).optional(),
    /**
     * Also run sysbench on the exporter's host (same threads, same length) for
     * e2bbench_cpu_virtualization_overhead_ratio. Meaningful when the exporter runs on the node
     * that hosts the sandboxes (one exporter per node); turn off elsewhere.
     */
    host_baseline: z.boolean().default(true),
  },
  load: ['cpu'],
  async run(ctx) {
    const opts = ctx.settings.options;
    const o = runOptions(ctx);
    const seconds = wholeSeconds(opts.time);
    const usedThreads = new Set<number>();
    const results = await measureSandboxes(ctx, { versions: { tools: ['sysbench'] } }, async (sb, m) => {
      const threads = opts.threads ?? [...new Set([1, threadsFor(sb.spec)])];
      const statBefore = await readProcStat(sb.exec, o);
      const mhz = sampleCpuMhz(sb.exec, ctx.signal, 1000);
      let mhzSamples: number[] = [];
      try {
        for (let i = 0; i < ctx.settings.samples; i++) {
          for (const t of threads) {
            const r = await bench(
              ctx,
              'sysbench',
              () => runSysbenchCpu(sb.exec, { threads: t, seconds, maxPrime: opts.max_prime }, o),
              { test: 'cpu', threads: t, sandbox: sb.index },
            );
            usedThreads.add(t);
            const labels = { scope: 'sandbox', threads: String(t) };
            m.add('e2bbench_cpu_events_per_second', labels, r.eventsPerSecond);
            m.add('e2bbench_cpu_event_latency_seconds', { ...labels, percentile: 'p95' }, r.latencySeconds.percentile);
          }
        }
      } finally {
        mhzSamples = await mhz.stop();
      }
      // Steal over the whole measurement, as the sandbox's kernel accounts it (0 without a hypervisor).
      m.add('e2bbench_cpu_steal_ratio', { scope: 'sandbox' }, stealRatio(statBefore, await readProcStat(sb.exec, o)));
      if (mhzSamples.length >= 2) {
        m.add('e2bbench_cpu_frequency_cv_ratio', { scope: 'sandbox' }, coefficientOfVariation(mhzSamples));
      }
    });
    if (opts.host_baseline) await hostBaseline([...usedThreads]);

    /** Same sysbench runs on the exporter's host, while no sandbox of ours is running. */
    async function hostBaseline(threads: number[]): Promise<void> {
      let hostCpus: number;
      try {
        ctx.detail('host_versions', { sysbench: await toolVersion(hostExec, 'sysbench', o) });
        hostCpus = await usableCpus(hostExec, o);
      } catch (err) {
        if (err instanceof ProbeError && err.reason === 'tool_missing') {
          ctx.log(`host baseline skipped: ${err.message}`);
          return;
        }
        throw err;
      }
      const baseline: Record<string, number> = {};
      for (const t of threads) {
        // More threads than host CPUs would measure the host's oversubscription, not the sandbox's overhead.
        if (t > hostCpus) {
          ctx.log(`host baseline skipped for threads=${t}: the host has ${hostCpus} usable CPUs`);
          continue;
        }
        const runs: number[] = [];
        for (let i = 0; i < ctx.settings.samples; i++) {
          const r = await bench(
            ctx,
            'sysbench',
            () => runSysbenchCpu(hostExec, { threads: t, seconds, maxPrime: opts.max_prime }, o),
            { test: 'cpu', threads: t, scope: 'host_baseline' },
          );
          runs.push(r.eventsPerSecond);
        }
        const host = median(runs);
        const sandbox = results.value('e2bbench_cpu_events_per_second', { scope: 'sandbox', threads: String(t) });
        baseline[String(t)] = host;
        if (sandbox !== undefined && host > 0) {
          ctx.gauge('e2bbench_cpu_virtualization_overhead_ratio', { threads: String(t) }, 1 - sandbox / host);
        }
      }
      ctx.detail('host_baseline_events_per_second', baseline);
    }
  },
});
