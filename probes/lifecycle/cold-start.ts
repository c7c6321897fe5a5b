import { z } from 'zod';
import { defineProbe } from '../../src/probe/types.js';
import { coldStrategyOf, makeCold } from './cold-cache.js';
import { collectSamples, reportStarts, timedKill, timedStart, startOptions } from './sample.js';

export const coldStart = defineProbe({
  name: 'lifecycle.cold_start',
  family: 'lifecycle',
  description: 'Sandbox start with the template cache made cold first (create → first command)',
  defaults: { interval: '15m', timeout: '10m', samples: 10 },
  options: startOptions.extend({ fresh_templates: z.array(z.string()).default([]) }).strict(),
  requires: ['sandbox'],
  async run(ctx) {
    const o = ctx.settings.options;
    const strategy = coldStrategyOf(ctx, o.fresh_templates);
    ctx.detail('cold_start_strategy', strategy);
    // Shown next to cold figures, so targets whose caches are reset differently are never mixed silently.
    ctx.gauge('e2bbench_cold_start_strategy_info', { template: ctx.target.template, strategy }, 1);
    let template = ctx.target.template;
    const outcomes = await collectSamples(ctx, ctx.settings.samples, o.pause_between * 1000, async (i) => {
      await ctx.phase(
        'cache.make_cold',
        async () => {
          template = await makeCold(ctx, strategy, i, o.fresh_templates);
        },
        { 'e2bbench.cold_start_strategy': strategy },
      );
      const s = await timedStart(
        ctx,
        { template, start_type: 'cold' },
        {
          phase: 'api_create',
          span: 'sandbox.create',
          fn: () => ctx.sandboxes.create({ template }),
        },
      );
      await timedKill(ctx, s.sandbox, { template, start_type: 'cold' });
      return s.seconds;
    });
    reportStarts(ctx, { template, start_type: 'cold' }, outcomes, o.min_success_ratio);
  },
});
