import { describe, expect, it } from 'vitest';
import { MedianOfMedians, medianOfMedians, parseSha256sum, threadsFor } from '../../probes/sandbox/common.js';
import { localBench } from '../../src/template/bench-scripts.js';
import { aggressorCommand, colocation, isolationRatio, p99Inflation } from '../../probes/sandbox/isolation.js';
import { allocBytesFor } from '../../probes/sandbox/memory.js';
import { diskPlans, patternLabel } from '../../probes/tools/index.js';
import { makeTestContext } from '../helpers/context.js';
import { sandboxCpu } from '../../probes/sandbox/cpu.js';
import { httpEndpoint, sandboxNetwork } from '../../probes/sandbox/network.js';
import { installCommand, sandboxPackageInstall } from '../../probes/sandbox/package-install.js';
import { ProbeSkip } from '../../src/probe/reasons.js';
import type { Probe } from '../../src/probe/types.js';

const MIB = 1024 * 1024;

describe('median of per-sandbox medians', () => {
  it('takes each sandbox median, then the median of those', () => {
    expect(medianOfMedians([[1, 2, 100], [3], [4, 5]])).toBe(3);
    expect(medianOfMedians([[10, 20]])).toBe(15);
  });

  it('groups by metric and labels and publishes one gauge per series', () => {
    const m = new MedianOfMedians();
    m.add(0, 'e2bbench_cpu_events_per_second', { scope: 'sandbox', threads: '1' }, 100);
    m.add(0, 'e2bbench_cpu_events_per_second', { scope: 'sandbox', threads: '1' }, 300);
    m.add(1, 'e2bbench_cpu_events_per_second', { threads: '1', scope: 'sandbox' }, 500);
    m.add(0, 'e2bbench_cpu_events_per_second', { scope: 'sandbox', threads: '2' }, 50);
    m.add(1, 'e2bbench_cpu_events_per_second', { scope: 'sandbox', threads: '2' }, NaN);
    const ctx = makeTestContext(sandboxCpu);
    const out = m.publish(ctx);
    expect(ctx.samples).toEqual([
      { name: 'e2bbench_cpu_events_per_second', labels: { scope: 'sandbox', threads: '1' }, value: 350 },
      { name: 'e2bbench_cpu_events_per_second', labels: { scope: 'sandbox', threads: '2' }, value: 50 },
    ]);
    expect(out[0].samples).toEqual([[100, 300], [500]]);
    expect(m.value('e2bbench_cpu_events_per_second', { threads: '2', scope: 'sandbox' })).toBe(50);
    expect(m.value('e2bbench_cpu_events_per_second', { scope: 'sandbox' })).toBeUndefined();
  });
});

describe('bench scripts', () => {
  it('are read from e2b-template/bench with their hashes and a version', async () => {
    const b = await localBench();
    expect(b.installedDir).toBe('/opt/e2b-bench/bench');
    expect(b.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        'alloc.py',
        'node/startup.mjs',
        'node/suite.mjs',
        'python/startup.py',
        'python/suite.py',
      ]),
    );
    expect(b.version).toMatch(/^[0-9a-f]{12}$/);
  });

  it('sha256sum output parses to path → hash (missing files are absent)', () => {
    const h = 'a'.repeat(64);
    const text = `${h}  /opt/x/alloc.py\n${'b'.repeat(64)} */opt/x/bin\nsha256sum: /opt/x/gone: No such file or directory\n`;
    expect([...parseSha256sum(text)]).toEqual([
      ['/opt/x/alloc.py', h],
      ['/opt/x/bin', 'b'.repeat(64)],
    ]);
  });
});

describe('isolation arithmetic and loads', () => {
  it('colocated: true when an aggressor shares the victim node, false when none does, unknown without placement', () => {
    expect(colocation('n1', ['n1', 'n2'])).toBe('true');
    expect(colocation('n1', ['n2', 'n3'])).toBe('false');
    expect(colocation(undefined, ['n1'])).toBe('unknown');
    expect(colocation('n1', ['n1', undefined])).toBe('unknown');
  });

  it('ratio = 1 − |loaded − base| / base, clamped to [0, 1]', () => {
    expect(isolationRatio(100, 100)).toBe(1);
    expect(isolationRatio(100, 60)).toBeCloseTo(0.6);
    expect(isolationRatio(100, 130)).toBeCloseTo(0.7);
    expect(isolationRatio(100, 250)).toBe(0);
    expect(isolationRatio(0, 10)).toBe(0);
    expect(p99Inflation(0.002, 0.005)).toBeCloseTo(2.5);
    expect(p99Inflation(0, 0.005)).toBeUndefined();
    expect(p99Inflation(NaN, 0.005)).toBeUndefined();
  });

  it('sizes each load to the aggressor sandbox', () => {
    const p = { seconds: 40, directory: '/var/tmp', diskBytes: 64 * MIB, direct: true };
    expect(aggressorCommand('cpu', { vcpu: 2, memoryMb: 1024 }, p)).toEqual({
      cmd: 'stress-ng',
      args: ['--cpu', '2', '--timeout', '40s', '--quiet'],
    });
    expect(aggressorCommand('memory', { vcpu: 2, memoryMb: 1024 }, p).args).toEqual([
      '--vm',
      '2',
      '--vm-bytes',
      '256M',
      '--timeout',
      '40s',
      '--quiet',
    ]);
    // A fractional quota still gets a whole worker; 1.5 vCPU gets two.
    expect(aggressorCommand('cpu', { vcpu: 0.5, memoryMb: 512 }, p).args.slice(0, 2)).toEqual(['--cpu', '1']);
    expect(aggressorCommand('cpu', { vcpu: 1.5, memoryMb: 512 }, p).args.slice(0, 2)).toEqual(['--cpu', '2']);
    expect([0.25, 1, 2, 3.5].map((vcpu) => threadsFor({ vcpu }))).toEqual([1, 1, 2, 4]);
    const disk = aggressorCommand('disk', { vcpu: 1, memoryMb: 512 }, p);
    expect(disk.cmd).toBe('fio');
    expect(disk.args).toEqual(
      expect.arrayContaining(['--rw=randwrite', '--direct=1', '--runtime=40', '--time_based', `--size=${64 * MIB}`]),
    );
  });
});

describe('other probe helpers', () => {
  it('alloc size shrinks only when the sandbox is too small', () => {
    expect(allocBytesFor(1024 * MIB, 4096)).toBe(1024 * MIB);
    expect(allocBytesFor(1024 * MIB, 1024)).toBe(512 * MIB);
    expect(allocBytesFor(1024 * MIB, 513)).toBe(256 * MIB);
    expect(allocBytesFor(64 * MIB, 512)).toBe(64 * MIB);
  });

  it('disk plan and labels match host.disk', () => {
    expect(diskPlans([1, 16], 8).map((p) => `${patternLabel(p.pattern)}:${p.blockSize}:${p.iodepth}`)).toEqual([
      'randread:4k:1',
      'randwrite:4k:1',
      'randread:4k:16',
      'randwrite:4k:16',
      'seqread:1m:8',
      'seqwrite:1m:8',
    ]);
  });

  it('HTTP endpoint label is the host, not the path', () => {
    expect(httpEndpoint('http://10.0.0.5:8080/objects/4mib.bin?x=1')).toBe('10.0.0.5:8080');
  });

  it('install commands use fresh directories per sample', () => {
    const opts = {
      pip_index_url: 'http://127.0.0.1:1/simple/',
      npm_registry: 'http://127.0.0.1:2/',
      pip_packages: ['six==1.16.0'],
      npm_packages: ['is-number@7.0.0'],
    };
    const pip = installCommand('pip', opts, '0-1');
    expect(pip.cmd).toBe('python3');
    expect(pip.args).toContain('/tmp/e2bbench-pip-0-1');
    const npm = installCommand('npm', opts, '0-1');
    expect(npm.cmd).toBe('npm');
    expect(npm.args).toEqual(expect.arrayContaining(['/tmp/e2bbench-npm-0-1', '/tmp/e2bbench-npm-cache-0-1']));
  });
});

describe('probes without endpoints are skipped, not failed', () => {
  const probes: [string, Probe, RegExp][] = [
    [sandboxNetwork.name, sandboxNetwork, /iperf3_server.*http_url/],
    [sandboxPackageInstall.name, sandboxPackageInstall, /pip_index_url.*npm_registry/],
  ];
  it.each(probes)('%s', async (_name, probe, message) => {
    // NO_SANDBOXES throws on create: the skip must come before any sandbox is asked for.
    const ctx = makeTestContext(probe);
    const err = await probe.run(ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProbeSkip);
    expect((err as ProbeSkip).reason).toBe('not_configured');
    expect((err as ProbeSkip).message).toMatch(message);
  });
});
