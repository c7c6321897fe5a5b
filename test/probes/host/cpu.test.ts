import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { hostCpu } from '../../../probes/host/index.js';
import { makeTestContext } from '../../helpers/context.js';
import { pidsMatching, waitUntil } from '../../helpers/processes.js';
import { runProbe, samplesOf, valueOf } from './helpers.js';

describe('host.cpu', () => {
  it('measures events/s and p95 latency at 1 and N threads', async () => {
    const ctx = await runProbe(hostCpu, { time: '1s' });
    const n = availableParallelism();
    const threads = samplesOf(ctx, 'e2bbench_cpu_events_per_second').map((s) => s.labels.threads);
    expect(threads).toEqual(n > 1 ? ['1', String(n)] : ['1']);
    for (const t of threads) {
      expect(valueOf(ctx, 'e2bbench_cpu_events_per_second', { scope: 'host', threads: t })).toBeGreaterThan(0);
      const p95 = valueOf(ctx, 'e2bbench_cpu_event_latency_seconds', { scope: 'host', threads: t, percentile: 'p95' });
      expect(p95).toBeGreaterThan(0);
      expect(p95).toBeLessThan(1);
    }
    const steal = valueOf(ctx, 'e2bbench_cpu_steal_ratio', { scope: 'host' });
    expect(steal).toBeGreaterThanOrEqual(0);
    expect(steal).toBeLessThanOrEqual(1);
    expect(ctx.phases.filter((p) => p.name === 'bench.sysbench')).toHaveLength(threads.length);
    expect(samplesOf(ctx, 'e2bbench_tool_info', { probe: 'host.cpu', tool: 'sysbench' })).toHaveLength(1);
    expect(ctx.details.versions).toHaveProperty('sysbench');
  });

  it('abort mid-run stops sysbench', async () => {
    // An unusual prime limit marks our sysbench among any others on the machine.
    const marker = '--cpu-max-prime=20011';
    const ctx = makeTestContext(hostCpu, { options: { time: '60s', max_prime: 20011, threads: [1] } });
    const run = probeRun();
    async function probeRun() {
      try {
        await hostCpu.run(ctx);
      } finally {
        await ctx.runDeferred();
      }
    }
    await waitUntil(() => pidsMatching('sysbench', marker).length > 0);
    ctx.abort();
    await expect(run).rejects.toBeDefined();
    expect(pidsMatching('sysbench', marker)).toEqual([]);
  });

  it('options are strict', () => {
    expect(() => hostCpu.options!.parse({ time: 'soon' })).toThrow();
    expect(() => hostCpu.options!.parse({ thread: [1] })).toThrow();
    expect(hostCpu.options!.parse({})).toMatchObject({ time: 10_000, max_prime: 10000 });
  });
});
