import type { Sandbox } from 'e2b';
import { z } from 'zod';
import { ProbeError, ProbeSkip } from '../../src/probe/reasons.js';
import { defineProbe, type ProbeContext } from '../../src/probe/types.js';
import { sleep } from '../../src/probe/sleep.js';

const MODES = ['sequential', 'staggered', 'burst'] as const;
type Mode = (typeof MODES)[number];

interface Ready {
  at?: number;
  error?: unknown;
}

/** Offsets (ms) at which each of `n` creates starts; sequential ones start when the previous is ready. */
export function startOffsets(mode: Mode, n: number, staggerMs: number): number[] | 'chained' {
  if (mode === 'sequential') return 'chained';
  return Array.from({ length: n }, (_, i) => (mode === 'staggered' ? i * staggerMs : 0));
}

async function oneStart(ctx: ProbeContext<unknown>, t0: number, made: Sandbox[]): Promise<Ready> {
  try {
    // Never retried: a 429 under burst is a result, not something to hide.
    const sbx = await ctx.sandboxes.create({ connection: { retries: 0 } });
    made.push(sbx);
    const r = await sbx.commands.run('true');
    if (r.exitCode !== 0) throw new ProbeError('command_failed', `first command exited ${r.exitCode}`);
    return { at: (performance.now() - t0) / 1000 };
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    // A start our own cap refused is no result of the target's: the burst cannot be measured.
    if (error instanceof ProbeSkip) throw error;
    return { error };
  }
}

export const burst = defineProbe({
  name: 'lifecycle.burst',
  family: 'lifecycle',
  description: 'Concurrent start throughput: sequential, staggered and burst-N; time to first and last ready',
  defaults: { interval: '30m', timeout: '10m' },
  options: z
    .object({
      modes: z
        .array(z.enum(MODES))
        .min(1)
        .default([...MODES]),
      count: z.number().int().min(1).max(500).default(10),
      stagger_ms: z.number().int().nonnegative().default(200),
    })
    .strict(),
  requires: ['sandbox'],
  load: ['cpu'],
  async run(ctx) {
    const o = ctx.settings.options;
    const template = ctx.target.template;
    const results: Record<string, unknown> = {};
    for (const mode of o.modes) {
      const made: Sandbox[] = [];
      const { value: ready } = await ctx.phase(`burst.${mode}`, async () => {
        const t0 = performance.now();
        const offsets = startOffsets(mode, o.count, o.stagger_ms);
        if (offsets === 'chained') {
          const out: Ready[] = [];
          for (let i = 0; i < o.count; i++) out.push(await oneStart(ctx, t0, made));
          return out;
        }
        return Promise.all(offsets.map(async (ms) => (ms && (await sleep(ms, ctx.signal)), oneStart(ctx, t0, made))));
      });
      await ctx.phase(`burst.${mode}.kill`, async () => {
        await Promise.allSettled(made.map((s) => ctx.sandboxes.kill(s)));
      });
      const times = ready.flatMap((r) => (r.at === undefined ? [] : [r.at])).sort((a, b) => a - b);
      const ratio = times.length / o.count;
      ctx.gauge('e2bbench_burst_success_ratio', { template, mode }, ratio);
      if (times.length) {
        ctx.gauge('e2bbench_burst_seconds', { template, mode, statistic: 'first_ready' }, times[0]);
        ctx.gauge('e2bbench_burst_seconds', { template, mode, statistic: 'last_ready' }, times[times.length - 1]);
      }
      const errors = ready.flatMap((r) => (r.error ? [String((r.error as Error).message ?? r.error)] : []));
      results[mode] = { count: o.count, ready: times.length, firstReady: times[0], lastReady: times.at(-1), errors };
      if (errors.length) ctx.log(`${mode}: ${errors.length}/${o.count} starts failed, first: ${errors[0]}`);
    }
    ctx.detail('modes', results);
  },
});
