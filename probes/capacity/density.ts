import type { Sandbox } from 'e2b';
import { z } from 'zod';
import { ProbeSkip } from '../../src/probe/reasons.js';
import { defineProbe } from '../../src/probe/types.js';
import { classifyError } from '../../src/runner/classify.js';
import { cv } from '../../src/stats/summary.js';
import { placementOfRun } from '../../src/targets/placement.js';

/** 1 − coefficient of variation of per-node counts: 1 is perfectly even, lower is lopsided. */
export function balance(perNode: number[]): number {
  if (perNode.length <= 1) return 1;
  return Math.max(0, 1 - cv(perNode));
}

export const density = defineProbe({
  name: 'capacity.density',
  family: 'capacity',
  description: 'Sandboxes that run at once: batches until failure or cap; per-node density and balance',
  defaults: { interval: '6h', timeout: '20m' },
  options: z
    .object({
      batch_size: z.number().int().min(1).default(5),
      max_sandboxes: z.number().int().min(1).default(20),
    })
    .strict(),
  requires: ['sandbox'],
  load: ['cpu', 'memory'],
  async run(ctx) {
    const o = ctx.settings.options;
    const template = ctx.target.template;
    const live: Sandbox[] = [];
    let stop: { reason: string; message: string; ours: boolean } | undefined;
    while (!stop && live.length < o.max_sandboxes) {
      ctx.signal.throwIfAborted();
      const n = Math.min(o.batch_size, o.max_sandboxes - live.length);
      const { value: settled } = await ctx.phase(`capacity.batch_${live.length + n}`, () =>
        Promise.allSettled(
          Array.from({ length: n }, async () => {
            const s = await ctx.sandboxes.create({ template, connection: { retries: 0 } });
            live.push(s);
            await s.commands.run('true');
          }),
        ),
      );
      const failed = settled.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) {
        const err = failed.reason;
        stop = {
          reason: err instanceof ProbeSkip ? err.reason : classifyError(err),
          message: (err as Error).message,
          ours: err instanceof ProbeSkip,
        };
      }
    }
    ctx.signal.throwIfAborted();
    const peak = live.length;
    // Per-node density and balance only from real placement: without it there is nothing to publish.
    let perNode: Map<string, number> | undefined;
    let placement: string | undefined;
    if (peak) {
      try {
        const nodes = await placementOfRun(ctx.services, ctx.runId, ctx.signal);
        const placed = live.flatMap((s) => (nodes.has(s.sandboxId) ? [nodes.get(s.sandboxId)!] : []));
        if (placed.length === peak) {
          perNode = new Map();
          for (const node of placed) perNode.set(node, (perNode.get(node) ?? 0) + 1);
        } else placement = `the control plane placed ${placed.length} of ${peak} sandboxes on a node`;
      } catch (err) {
        placement = (err as Error).message;
      }
    }
    await ctx.phase('capacity.cleanup', async () => {
      await Promise.allSettled(live.map((s) => ctx.sandboxes.kill(s)));
    });
    ctx.gauge('e2bbench_capacity_max_sandboxes', { template }, peak);
    for (const [node, count] of perNode ?? [])
      ctx.gauge('e2bbench_capacity_sandboxes_per_node', { template, node }, count);
    // Balance compares nodes that got sandboxes; with one, it cannot tell an even one-node cluster
    // from a scheduler that left other nodes empty.
    if (perNode && perNode.size > 1)
      ctx.gauge('e2bbench_capacity_balance_ratio', { template }, balance([...perNode.values()]));
    else if (perNode) placement = `all sandboxes on one node (${[...perNode.keys()][0]}): balance not measurable`;
    if (placement) {
      ctx.log(`node distribution: ${placement}`);
      ctx.detail('balance_unavailable', placement);
    }
    // 1 only when the platform refused: a stop on our own budget is a cap, and its peak no capacity.
    const platformLimit = stop !== undefined && !stop.ours;
    ctx.gauge('e2bbench_capacity_limit_reached', { template, reason: stop?.reason ?? 'cap' }, platformLimit ? 1 : 0);
    ctx.detail('capacity', { peak, stop, perNode: perNode && Object.fromEntries(perNode), cap: o.max_sandboxes });
  },
});
