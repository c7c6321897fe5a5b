import { describe, expect, it } from 'vitest';
import { localBenchScript } from '../../../src/template/bench-scripts.js';
import { hostExec, parseMemoryLatency, runMemoryLatency } from '../../../probes/tools/index.js';
import { expectProbeError } from './expect-error.js';
import { fixture } from './fixtures.js';

describe('parseMemoryLatency', () => {
  it('reads what bench/memlat.mjs printed, in seconds', () => {
    const r = parseMemoryLatency(fixture('memlat-32mib.json'));
    expect(r.bytes).toBe(32 * 1024 * 1024);
    expect(r.lineBytes).toBe(64);
    expect(r.nsPerLoad.length).toBeGreaterThanOrEqual(3);
    const sorted = [...r.nsPerLoad].sort((a, b) => a - b);
    expect(r.medianSeconds).toBeCloseTo(sorted[1] / 1e9, 15);
    expect(r.runtimeVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('rejects a median that is not the samples’ median, other JSON and garbage', () => {
    const doc = JSON.parse(fixture('memlat-32mib.json')) as Record<string, unknown>;
    expectProbeError(() => parseMemoryLatency(JSON.stringify({ ...doc, median_ns: 1 })), 'parse_error', /median/);
    expectProbeError(() => parseMemoryLatency(JSON.stringify({ ...doc, ns_per_load: [] })), 'parse_error');
    expectProbeError(() => parseMemoryLatency(JSON.stringify({ ...doc, bench: 'alloc' })), 'parse_error');
    expectProbeError(() => parseMemoryLatency(JSON.stringify({ ...doc, clock: 'wall' })), 'parse_error', /clock/);
    expectProbeError(() => parseMemoryLatency('usage: memlat.mjs'), 'parse_error');
  });
});

describe('runMemoryLatency (the exporter’s own Node.js)', () => {
  const run = async (bytes: number) =>
    runMemoryLatency(
      hostExec,
      { node: process.execPath, script: await localBenchScript('memlat.mjs'), bytes, seconds: 0.2 },
      { signal: AbortSignal.timeout(120_000) },
    );

  it('dependent loads over 64 MiB take far longer than over 16 KiB (L1-resident)', async () => {
    const small = await run(16 * 1024);
    const large = await run(64 * 1024 * 1024);
    expect(small.bytes).toBe(16 * 1024);
    expect(large.bytes).toBe(64 * 1024 * 1024);
    // An L1 hit is ~1 ns, a DRAM access ~60 ns or more: a chase that is not dependent, or not
    // random, or not over the whole set would not show a gap of this size.
    expect(large.medianSeconds).toBeGreaterThan(small.medianSeconds * 5);
    expect(large.medianSeconds).toBeGreaterThan(20e-9);
    expect(large.medianSeconds).toBeLessThan(100e-6);
  });

  it('a bad working set fails as command_failed with the script’s usage line', async () => {
    await expect(run(10)).rejects.toMatchObject({ reason: 'command_failed', message: /usage: memlat/ });
  });
});
