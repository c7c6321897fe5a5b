import { describe, expect, it } from 'vitest';
import {
  parseCpuinfo,
  parseHugepages,
  parseMeminfo,
  parseProcStat,
  parseThpMode,
  parseToolVersion,
  stealRatio,
  coefficientOfVariation,
} from '../../../probes/tools/index.js';
import { expectProbeError } from './expect-error.js';
import { fixture } from './fixtures.js';

describe('/proc parsers', () => {
  it('meminfo: kB → bytes, huge page counts as counts', () => {
    const text = fixture('proc-meminfo.txt');
    const m = parseMeminfo(text);
    const memTotalKb = Number(/^MemTotal:\s+(\d+) kB/m.exec(text)![1]);
    expect(m.MemTotal).toBe(memTotalKb * 1024);
    const hp = parseHugepages(text);
    expect(hp.total).toBe(Number(/^HugePages_Total:\s+(\d+)$/m.exec(text)![1]));
    expect(hp.free).toBeLessThanOrEqual(hp.total);
    expect([2 << 20, 1 << 30, 64 << 10, 512 << 20]).toContain(hp.pageSizeBytes);
    expectProbeError(() => parseMeminfo('nothing here'), 'parse_error', /meminfo/);
    expectProbeError(() => parseHugepages('MemTotal: 100 kB\n'), 'parse_error', /HugePages/);
  });

  it('THP mode is the bracketed word', () => {
    expect(['always', 'madvise', 'never']).toContain(parseThpMode(fixture('thp-enabled.txt')));
    expect(parseThpMode('[always] madvise never\n')).toBe('always');
    expect(parseThpMode('always madvise [never]')).toBe('never');
    expectProbeError(() => parseThpMode('always madvise never'), 'parse_error');
  });

  it('cpuinfo: model, vendor, threads, cores, MHz', () => {
    const text = fixture('proc-cpuinfo.txt');
    const c = parseCpuinfo(text);
    expect(c.threads).toBe(text.match(/^processor\s*:/gm)!.length);
    expect(c.cores).toBeGreaterThanOrEqual(1);
    expect(c.cores).toBeLessThanOrEqual(c.threads);
    expect(c.model).toBe(/^model name\s*:\s*(.+)$/m.exec(text)![1].trim());
    expect(c.vendor).toBe(/^vendor_id\s*:\s*(.+)$/m.exec(text)![1].trim());
    expect(c.mhz).toHaveLength(c.threads);
    expectProbeError(() => parseCpuinfo('flags: a b c'), 'parse_error', /cpuinfo/);
  });

  it('cpuinfo without x86 fields (Arm layout) still yields a vendor and counts', () => {
    const arm = [0, 1, 2, 3]
      .map((i) => `processor\t: ${i}\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n`)
      .join('\n');
    const c = parseCpuinfo(arm);
    expect(c).toMatchObject({ vendor: 'ARM', model: 'unknown', threads: 4, cores: 4, mhz: [] });
  });

  it('stat: steal share between two snapshots', () => {
    const a = parseProcStat(fixture('proc-stat-1.txt'));
    const b = parseProcStat(fixture('proc-stat-2.txt'));
    expect(a.perCpu.length).toBeGreaterThan(0);
    expect(b.total.idle).toBeGreaterThanOrEqual(a.total.idle);
    const r = stealRatio(a, b);
    expect(r).toBeGreaterThanOrEqual(0);
    expect(r).toBeLessThanOrEqual(1);
    const fake = (steal: number, user: number) => parseProcStat(`cpu  ${user} 0 0 0 0 0 0 ${steal} 0 0\n`);
    expect(stealRatio(fake(0, 0), fake(25, 75))).toBeCloseTo(0.25);
    expect(stealRatio(a, a)).toBe(0);
    expectProbeError(() => parseProcStat('intr 1 2 3'), 'parse_error', /stat/);
  });

  it('coefficient of variation', () => {
    expect(coefficientOfVariation([2500, 2500, 2500])).toBe(0);
    expect(coefficientOfVariation([1, 3])).toBeCloseTo(0.5);
    expect(coefficientOfVariation([7])).toBe(0);
  });
});

describe('parseToolVersion', () => {
  it.each([
    ['sysbench', 'sysbench-version.txt'],
    ['fio', 'fio-version.txt'],
    ['iperf3', 'iperf3-version.txt'],
    ['stress-ng', 'stress-ng-version.txt'],
  ])('%s', (tool, file) => {
    const text = fixture(file);
    const v = parseToolVersion(tool, text);
    expect(v).toMatch(/^\d+\.\d+/);
    expect(text).toContain(v);
  });

  it('rejects unknown tools and foreign text', () => {
    expectProbeError(() => parseToolVersion('sysbench', fixture('fio-version.txt')), 'parse_error');
    expectProbeError(() => parseToolVersion('nmap', 'Nmap version 7'), 'parse_error');
  });
});
