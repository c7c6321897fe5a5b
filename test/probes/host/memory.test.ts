import { describe, expect, it } from 'vitest';
import { hostMemory } from '../../../probes/host/index.js';
import { runProbe, valueOf } from './helpers.js';

describe('host.memory', () => {
  it('measures read and write bandwidth and load latency', async () => {
    const ctx = await runProbe(hostMemory, { time: '1s', latency_size: '32MiB', latency_time: '300ms' });
    for (const operation of ['read', 'write']) {
      // Any machine moves more than 10 MB/s through memory; a unit slip (MiB vs bytes) would not.
      expect(valueOf(ctx, 'e2bbench_memory_bandwidth_bytes_per_second', { scope: 'host', operation })).toBeGreaterThan(
        10e6,
      );
    }
    // A DRAM load takes tens of nanoseconds at least; nanoseconds read as seconds would be huge.
    const latency = valueOf(ctx, 'e2bbench_memory_latency_seconds', { scope: 'host' });
    expect(latency).toBeGreaterThan(10e-9);
    expect(latency).toBeLessThan(100e-6);
    expect(ctx.details.latency).toMatchObject({ bytes: 32 * 1024 * 1024 });
    expect(ctx.phases.map((p) => p.name)).toEqual(['bench.sysbench', 'bench.sysbench', 'bench.memlat']);
    expect(ctx.details.versions).toMatchObject({ sysbench: expect.any(String), node: process.versions.node });
  });

  it('options are strict', () => {
    expect(() => hostMemory.options!.parse({ block_size: 'huge' })).toThrow();
    expect(() => hostMemory.options!.parse({ extra: true })).toThrow();
    expect(() => hostMemory.options!.parse({ latency_size: 'big' })).toThrow();
  });
});
