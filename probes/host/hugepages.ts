import { z } from 'zod';
import { bytes, duration } from '../../src/config/schema.js';
import { defineProbe } from '../../src/probe/types.js';
import {
  bench,
  hostExec,
  readHugepages,
  readThpMode,
  recordToolVersions,
  runOptions,
  runStressNgVm,
  wholeSeconds,
} from '../tools/index.js';
import { median } from '../../src/stats/summary.js';

export const hostHugepages = defineProbe({
  name: 'host.hugepages',
  family: 'host',
  load: ['cpu', 'memory'],
  description:
    'Huge page state (/proc/meminfo, THP mode) and the speed-up of a memory-bound stress-ng vm run with madvise(hugepage) over nohugepage.',
  defaults: { interval: '30m', timeout: '2m' },
  options: z
    .object({
      /** Length of each stress-ng run. */
      time: duration.default('5s'),
      /** Memory the vm stressor works on. */
      bytes: bytes.default('256MiB'),
      /** stress-ng --vm-method; rand-set is bound by TLB reach, where huge pages matter. */
      method: z.string().min(1).default('rand-set'),
      /** A/B pairs, order alternated between rounds; the ratio is of the medians. */
      rounds: z.number().int().min(1).max(10).default(1),
    })
    .strict(),
  async run(ctx) {
    const exec = hostExec;
    const o = runOptions(ctx);
    const opts = ctx.settings.options;
    await recordToolVersions(ctx, exec, ['stress-ng']);
    const [state, thp] = await Promise.all([readHugepages(exec, o), readThpMode(exec, o)]);
    ctx.gauge('e2bbench_hugepages_enabled', { kind: 'hugetlb' }, state.total > 0 ? 1 : 0);
    ctx.gauge('e2bbench_hugepages_enabled', { kind: 'thp' }, thp !== undefined && thp !== 'never' ? 1 : 0);
    if (thp) ctx.gauge('e2bbench_hugepages_thp_info', { mode: thp }, 1);
    ctx.gauge('e2bbench_hugepages_size_bytes', {}, state.pageSizeBytes);
    ctx.gauge('e2bbench_hugepages_pool_pages', {}, state.total);
    ctx.gauge('e2bbench_hugepages_free', {}, state.free);
    ctx.detail('state', { ...state, thp: thp ?? 'unsupported' });
    if (thp === undefined || thp === 'never')
      ctx.log(`THP is ${thp ?? 'unsupported'}: madvise(hugepage) has no effect, expect no speed-up`);

    const seconds = wholeSeconds(opts.time);
    const runs = { hugepage: [] as number[], nohugepage: [] as number[] };
    for (let round = 0; round < opts.rounds; round++) {
      const order = round % 2 === 0 ? (['hugepage', 'nohugepage'] as const) : (['nohugepage', 'hugepage'] as const);
      for (const madvise of order) {
        const row = await bench(
          ctx,
          'stress-ng',
          () => runStressNgVm(exec, { seconds, bytes: opts.bytes, method: opts.method, madvise }, o),
          { stressor: 'vm', madvise },
        );
        runs[madvise].push(row.bogoOpsPerSecond);
      }
    }
    const base = median(runs.nohugepage);
    if (base > 0) ctx.gauge('e2bbench_hugepages_speedup_ratio', {}, median(runs.hugepage) / base - 1);
    ctx.detail('bogo_ops_per_second', runs);
  },
});
