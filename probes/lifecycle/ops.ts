import { z } from 'zod';
import { ProbeError } from '../../src/probe/reasons.js';
import { defineProbe } from '../../src/probe/types.js';
import { summarize } from '../../src/stats/summary.js';
import { inSandbox } from '../../src/targets/sandbox-errors.js';

const KIB = 1024;

/** Operations against a running sandbox: the floor under every other sandbox measurement. */
export const ops = defineProbe({
  name: 'lifecycle.ops',
  family: 'lifecycle',
  description: 'Command round trip, 64 KiB stdout, 1 KiB file write and read, kill, on a running sandbox',
  defaults: { interval: '5m', timeout: '3m', samples: 10 },
  options: z.object({}).strict(),
  requires: ['sandbox'],
  async run(ctx) {
    const template = ctx.target.template;
    const sbx = (await ctx.phase('sandbox.create', () => ctx.sandboxes.create({ template }))).value;
    const payload = 'x'.repeat(KIB);
    const times: Record<string, number[]> = {};
    const op = async (operation: string, fn: () => Promise<void>) => {
      const { seconds } = await ctx.phase(`sandbox.${operation}`, () => inSandbox(sbx, operation, fn));
      ctx.observe('e2bbench_sandbox_operation_seconds', { template, operation }, seconds);
      (times[operation] ??= []).push(seconds);
    };
    for (let i = 0; i < ctx.settings.samples; i++) {
      ctx.signal.throwIfAborted();
      await op('command_rtt', async () => {
        await sbx.commands.run('true');
      });
      await op('stdout_64k', async () => {
        const r = await sbx.commands.run(`head -c ${64 * KIB} /dev/zero | tr '\\0' a`);
        if (r.stdout.length !== 64 * KIB)
          throw new ProbeError('command_failed', `expected 65536 bytes of stdout, got ${r.stdout.length}`);
      });
      await op('file_write_1k', async () => {
        await sbx.files.write(`/tmp/e2bbench-ops-${i}`, payload);
      });
      await op('file_read_1k', async () => {
        const back = await sbx.files.read(`/tmp/e2bbench-ops-${i}`);
        if (back !== payload) throw new ProbeError('sandbox_error', 'file read back differs from what was written');
      });
    }
    await op('kill', () => ctx.sandboxes.kill(sbx));
    ctx.detail('stats', Object.fromEntries(Object.entries(times).map(([k, v]) => [k, summarize(v)])));
  },
});
