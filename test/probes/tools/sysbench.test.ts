import { describe, expect, it } from 'vitest';
import {
  hostExec,
  parseSysbenchCpu,
  parseSysbenchMemory,
  runSysbenchMemory,
  sysbenchMemoryArgs,
} from '../../../probes/tools/index.js';
import { expectProbeError } from './expect-error.js';
import { fixture } from './fixtures.js';

describe('parseSysbenchCpu', () => {
  it.each([1, 2])('reads the threads=%i report', (threads) => {
    const text = fixture(`sysbench-cpu-threads${threads}.txt`);
    const r = parseSysbenchCpu(text);
    expect(r.threads).toBe(threads);
    // Cross-checks against the report itself rather than copied numbers.
    expect(r.eventsPerSecond).toBeCloseTo(r.totalEvents / r.totalSeconds, -1);
    expect(r.latencySeconds.percentileRank).toBe(95);
    expect(r.latencySeconds.min).toBeLessThanOrEqual(r.latencySeconds.avg);
    expect(r.latencySeconds.avg).toBeLessThanOrEqual(r.latencySeconds.max);
    // sysbench prints milliseconds; a prime-20000 event takes about a millisecond, not a second.
    expect(r.latencySeconds.percentile).toBeGreaterThan(1e-5);
    expect(r.latencySeconds.percentile).toBeLessThan(1);
  });

  it('rejects memory output, a bad-option report and garbage', () => {
    expectProbeError(() => parseSysbenchCpu(fixture('sysbench-bad-option.txt')), 'parse_error', /sysbench/);
    expectProbeError(() => parseSysbenchCpu(fixture('sysbench-memory-read.txt')), 'parse_error');
    expectProbeError(() => parseSysbenchCpu('hello'), 'parse_error');
    expectProbeError(() => parseSysbenchCpu(''), 'parse_error');
  });

  it('rejects a report cut off before the latency block', () => {
    const text = fixture('sysbench-cpu-threads1.txt');
    expectProbeError(() => parseSysbenchCpu(text.slice(0, text.indexOf('Latency'))), 'parse_error', /latency/);
  });
});

describe('parseSysbenchMemory', () => {
  it.each(['read', 'write'])('reads the %s report in bytes', (op) => {
    const r = parseSysbenchMemory(fixture(`sysbench-memory-${op}.txt`));
    expect(r.operation).toBe(op);
    expect(r.blockBytes).toBe(1024 * 1024);
    expect(r.threads).toBe(1);
    // 1 MiB blocks: MiB/s and operations/s are the same figure.
    expect(r.bytesPerSecond).toBeCloseTo(r.operationsPerSecond * r.blockBytes, -3);
    expect(r.transferredBytes / r.totalSeconds).toBeGreaterThan(r.bytesPerSecond * 0.9);
  });

  it('reads a rate sysbench pads with spaces (under 10000 operations/s)', () => {
    const text = fixture('sysbench-memory-write-padded.txt');
    expect(text).toMatch(/\(\s+[\d.]+ per second\)/);
    const r = parseSysbenchMemory(text);
    expect(r.blockBytes).toBe(8 * 1024 * 1024);
    expect(r.operationsPerSecond).toBeGreaterThan(0);
    expect(r.bytesPerSecond).toBeCloseTo(r.operationsPerSecond * r.blockBytes, -4);
  });

  it('rejects cpu output and truncated text', () => {
    expectProbeError(() => parseSysbenchMemory(fixture('sysbench-cpu-threads1.txt')), 'parse_error');
    const text = fixture('sysbench-memory-read.txt');
    expectProbeError(() => parseSysbenchMemory(text.slice(0, text.indexOf('Total operations'))), 'parse_error');
  });
});

describe('runSysbenchMemory (the real sysbench on this host)', () => {
  it('reports the latency percentile asked for, placed before the run command', async () => {
    const p = { operation: 'write' as const, seconds: 1, blockSize: '4M', percentile: 99 };
    expect(sysbenchMemoryArgs(p).slice(-2)).toEqual(['--percentile=99', 'run']);
    const r = await runSysbenchMemory(hostExec, p, { signal: AbortSignal.timeout(60_000) });
    expect(r.bytesPerSecond).toBeGreaterThan(0);
    expect(r.percentileSeconds).toBeGreaterThan(0);
    // Without a percentile the arguments and the result stay as before.
    expect(sysbenchMemoryArgs({ operation: 'write', seconds: 1 }).join(' ')).not.toContain('--percentile');
  });
});
