import { describe, expect, it } from 'vitest';
import { hostMemory } from '../../../probes/host/index.js';
import { runProbe, valueOf } from './helpers.js';

describe('host.memory', () => {
  it('measures read and write bandwidth', async () => {
    const ctx = await runProbe(hostMemory, { time: '1s' });
    for (const operation of ['read', 'write']) {
      // Any machine moves more than 10 MB/s through memory; a unit slip (MiB vs bytes) would not.
      expect(valueOf(ctx, 'e2bbench_memory_bandwidth_bytes_per_second', { scope: 'host', operation })).toBeGreaterThan(
        10e6,
      );
    }
    expect(ctx.phases.map((p) => p.name)).toEqual(['bench.sysbench', 'bench.sysbench']);
    expect(ctx.details.versions).toHaveProperty('sysbench');
  });

  it('options are strict', () => {
    expect(() => hostMemory.options!.parse({ block_size: 'huge' })).toThrow();
    expect(() => hostMemory.options!.parse({ extra: true })).toThrow();
  });
});
