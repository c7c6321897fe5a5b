import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hostHugepages } from '../../../probes/host/index.js';
import { parseHugepages } from '../../../probes/tools/index.js';
import { runProbe, samplesOf, valueOf } from './helpers.js';

describe('host.hugepages', () => {
  it('reports huge page state and the madvise A/B speed-up', async () => {
    const ctx = await runProbe(hostHugepages, { time: '1s', bytes: '32MiB' });
    const state = parseHugepages(readFileSync('/proc/meminfo', 'utf8'));
    expect(valueOf(ctx, 'e2bbench_hugepages_size_bytes')).toBe(state.pageSizeBytes);
    expect(valueOf(ctx, 'e2bbench_hugepages_pool_pages')).toBe(state.total);
    expect(valueOf(ctx, 'e2bbench_hugepages_enabled', { kind: 'hugetlb' })).toBe(state.total > 0 ? 1 : 0);
    const [thp] = samplesOf(ctx, 'e2bbench_hugepages_thp_info');
    const mode = /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))![1];
    expect(thp.labels.mode).toBe(mode);
    expect(valueOf(ctx, 'e2bbench_hugepages_enabled', { kind: 'thp' })).toBe(mode === 'never' ? 0 : 1);
    const speedup = valueOf(ctx, 'e2bbench_hugepages_speedup_ratio');
    expect(Number.isFinite(speedup)).toBe(true);
    expect(speedup).toBeGreaterThan(-1);
    expect(ctx.phases.filter((p) => p.name === 'bench.stress-ng')).toHaveLength(2);
    const runs = ctx.details.bogo_ops_per_second as { hugepage: number[]; nohugepage: number[] };
    expect(runs.hugepage[0]).toBeGreaterThan(0);
    expect(runs.nohugepage[0]).toBeGreaterThan(0);
    expect(speedup).toBeCloseTo(runs.hugepage[0] / runs.nohugepage[0] - 1, 9);
    expect(ctx.details.versions).toHaveProperty('stress-ng');
  });
});
