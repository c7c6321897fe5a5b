import type { Sandbox } from 'e2b';
import { z } from 'zod';
import { ProbeSkip } from '../../src/probe/reasons.js';
import { defineProbe } from '../../src/probe/types.js';
import { classifyError } from '../../src/runner/classify.js';
import { cv } from '../../src/stats/summary.js';
import { apiUrlOf, hasSandboxService } from '../../src/targets/connection.js';
import { NomadClient } from '../../src/targets/nomad.js';
import { RUN_KEY } from '../../src/targets/ownership.js';

/** 1 − coefficient of variation of per-node counts: 1 is perfectly even, lower is lopsided. */
export function balance(perNode: number[]): number {
  if (perNode.length <= 1) return 1;
  return Math.max(0, 1 - cv(perNode));
}

/** Node of each of this run's sandboxes, from the control plane's `clientID` (the SDK does not expose it). */
async function nodesOfRun(
  apiUrl: string,
  apiKey: string | undefined,
  runId: string,
  signal: AbortSignal,
): Promise<string[]> {
  const q = new URLSearchParams({ metadata: `${RUN_KEY}=${runId}`, limit: '1000' });
  const res = await fetch(`${apiUrl.replace(/\/$/, '')}/v2/sandboxes?${q}`, {
    headers: apiKey ? { 'X-API-KEY': apiKey } : {},
    signal,
  });
  if (!res.ok) throw new Error(`listing sandboxes for node distribution: HTTP ${res.status}`);
  const list = (await res.json()) as { clientID?: string }[];
  return list.map((s) => s.clientID ?? 'unknown');
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
  supports: hasSandboxService,
  async run(ctx) {
    const o = ctx.settings.options;
    const template = ctx.target.template;
    const live: Sandbox[] = [];
    let stop: { reason: string; message: string } | undefined;
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
        };
      }
    }
    ctx.signal.throwIfAborted();
    const peak = live.length;
    let perNode = new Map<string, number>([['all', peak]]);
    const api = apiUrlOf(ctx.target);
    if (api && peak) {
      try {
        const nodes = await nodesOfRun(api, ctx.target.e2b?.api_key, ctx.runId, ctx.signal);
        const names = new Map<string, string>();
        if (ctx.target.nomad) {
          const n = ctx.target.nomad;
          for (const node of await new NomadClient({ addr: n.addr, token: n.token }).nodes(ctx.signal)) {
            names.set(node.ID, node.Name);
            names.set(node.ID.slice(0, 8), node.Name);
          }
        }
        perNode = new Map();
        for (const id of nodes) {
          const name = names.get(id) ?? id;
          perNode.set(name, (perNode.get(name) ?? 0) + 1);
        }
      } catch (err) {
        ctx.log(`node distribution unavailable: ${(err as Error).message}`);
      }
    }
    await ctx.phase('capacity.cleanup', async () => {
      await Promise.allSettled(live.map((s) => ctx.sandboxes.kill(s)));
    });
    ctx.gauge('e2bbench_capacity_max_sandboxes', { template }, peak);
    for (const [node, count] of perNode) ctx.gauge('e2bbench_capacity_sandboxes_per_node', { template, node }, count);
    ctx.gauge('e2bbench_capacity_balance_ratio', { template }, balance([...perNode.values()]));
    ctx.gauge('e2bbench_capacity_limit_reached', { template, reason: stop?.reason ?? 'cap' }, stop ? 1 : 0);
    ctx.detail('capacity', { peak, stop, perNode: Object.fromEntries(perNode), cap: o.max_sandboxes });
  },
});
