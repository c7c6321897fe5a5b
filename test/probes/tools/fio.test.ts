import { describe, expect, it } from 'vitest';
import { fioArgs, fioStatsFor, parseFioJson } from '../../../probes/tools/index.js';
import { expectProbeError } from './expect-error.js';
import { fixture } from './fixtures.js';

describe('parseFioJson', () => {
  it.each([
    ['fio-randread.json', 'randread', 'read'],
    ['fio-randwrite.json', 'randwrite', 'write'],
    ['fio-seqread-buffered.json', 'read', 'read'],
    ['fio-seqwrite.json', 'write', 'write'],
  ] as const)('%s: stats of the exercised direction', (file, rw, dir) => {
    const res = parseFioJson(fixture(file));
    expect(res.version).toMatch(/^\d+\.\d+/);
    expect(res.jobs).toHaveLength(1);
    const job = res.jobs[0];
    expect(job.error).toBe(0);
    const s = fioStatsFor({ rw }, job);
    expect(s).toBe(job[dir]);
    expect(s.ios).toBeGreaterThan(0);
    expect(s.iops).toBeGreaterThan(0);
    expect(s.bytesPerSecond).toBeGreaterThan(0);
    // Block size ties IOPS and bandwidth together: 4k for random, 1m for sequential.
    const bs = rw.startsWith('rand') ? 4096 : 1024 * 1024;
    expect(s.bytesPerSecond / s.iops / bs).toBeGreaterThan(0.9);
    expect(s.bytesPerSecond / s.iops / bs).toBeLessThan(1.1);
    // Nanoseconds became seconds, and percentiles are ordered.
    expect(s.clatSeconds.p50).toBeGreaterThan(0);
    expect(s.clatSeconds.p50).toBeLessThan(1);
    expect(s.clatSeconds.p50!).toBeLessThanOrEqual(s.clatSeconds.p95!);
    expect(s.clatSeconds.p95!).toBeLessThanOrEqual(s.clatSeconds.p99!);
    // The idle direction has no I/O and no percentiles.
    const idle = dir === 'read' ? job.write : job.read;
    expect(idle.ios).toBe(0);
    expect(idle.clatSeconds.p95).toBeUndefined();
  });

  it('skips the error lines fio prints before its JSON and reports the job errno', () => {
    const text = fixture('fio-direct-error.txt');
    expect(text.startsWith('{')).toBe(false);
    const res = parseFioJson(text);
    expect(res.jobs[0].name).toBe('direct_probe');
    expect(res.jobs[0].error).toBe(22);
  });

  it('rejects malformed input', () => {
    expectProbeError(() => parseFioJson(''), 'parse_error', /fio/);
    expectProbeError(() => parseFioJson('fio: no such file'), 'parse_error');
    expectProbeError(() => parseFioJson('{"jobs": []}'), 'parse_error', /no jobs/);
    const text = fixture('fio-randread.json');
    expectProbeError(() => parseFioJson(text.slice(0, text.length / 2)), 'parse_error');
    expectProbeError(() => parseFioJson(text.replace('"iops" :', '"iops_x" :')), 'parse_error', /iops/);
  });
});

describe('fioArgs', () => {
  it('builds a time-based JSON job and escapes colons in the file name', () => {
    const args = fioArgs({
      name: 'j',
      filename: '/data/a:b/f',
      sizeBytes: 4 << 20,
      blockSize: '4k',
      rw: 'randread',
      iodepth: 4,
      direct: true,
      runtimeSeconds: 2,
    });
    expect(args).toContain('--filename=/data/a\\:b/f');
    expect(args).toEqual(
      expect.arrayContaining(['--direct=1', '--iodepth=4', '--time_based', '--runtime=2', '--output-format=json']),
    );
    const once = fioArgs({
      name: 'j',
      filename: 'f',
      sizeBytes: 1,
      blockSize: '4k',
      rw: 'write',
      iodepth: 1,
      direct: false,
    });
    expect(once).not.toContain('--time_based');
    expect(once).toContain('--direct=0');
  });
});
