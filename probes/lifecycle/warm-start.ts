import { defineProbe } from '../../src/probe/types.js';
import { collectSamples, reportStarts, timedKill, timedStart, startOptions } from './sample.js';

export const warmStart = defineProbe({
  name: 'lifecycle.warm_start',
  family: 'lifecycle',
  description: 'Sandbox start after a warm-up create (create → first command)',
  defaults: { interval: '5m', timeout: '5m', samples: 10 },
  options: startOptions.strict(),
  requires: ['sandbox'],
  async run(ctx) {
    const o = ctx.settings.options;
    const template = ctx.target.template;
    const series = { template, start_type: 'warm' } as const;
    await ctx.phase('warmup', async () => {
      const s = await ctx.sandboxes.create({ template });
      await s.commands.run('true');
      await ctx.sandboxes.kill(s);
    });
    const outcomes = await collectSamples(ctx, ctx.settings.samples, o.pause_between * 1000, async () => {
      const s = await timedStart(ctx, series, {
        phase: 'api_create',
        span: 'sandbox.create',
        fn: () => ctx.sandboxes.create({ template }),
      });
      await timedKill(ctx, s.sandbox, series);
      return s.seconds;
    });
    reportStarts(ctx, series, outcomes, o.min_success_ratio);
  },
});
