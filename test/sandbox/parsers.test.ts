import { describe, expect, it } from 'vitest';
import { parseAllocOutput, parseStartupOutput, parseSuiteOutput } from '../../probes/sandbox/parsers/bench.js';
import { curlArgs, parseCurlVersion, parseCurlWriteOut } from '../../probes/tools/parsers/curl.js';
import {
  npmInstallArgs,
  parseNpmVersion,
  parsePipVersion,
  pipInstallArgs,
} from '../../probes/sandbox/parsers/package-managers.js';
import { liveMatches, parsePsStatComm } from '../../probes/sandbox/parsers/ps.js';
import { parseRuntimeVersion } from '../../probes/sandbox/parsers/runtime-version.js';
import { parseSysbenchLatencyPercentile, parseSysbenchMemory } from '../../probes/tools/index.js';
import { fixture } from '../probes/tools/fixtures.js';
import { expectProbeError } from '../probes/tools/expect-error.js';

function suiteLine(overrides: Record<string, unknown> = {}, benchmarks?: unknown[]) {
  const list = benchmarks ?? [
    { name: 'nbody', repetitions: 3, rounds: 5, seconds: 0.05, reference_seconds: 0.1, score: 2 },
    { name: 'regex', repetitions: 3, rounds: 1, seconds: 0.2, reference_seconds: 0.1, score: 0.5 },
  ];
  return JSON.stringify({
    suite: 'e2b-bench',
    suite_version: 1,
    runtime: 'python',
    runtime_version: '3.11.2',
    scale: 1,
    benchmarks: list,
    score: 1,
    ...overrides,
  });
}

describe('parseSuiteOutput', () => {
  it('reads a consistent suite line', () => {
    const s = parseSuiteOutput(`${suiteLine()}\n`);
    expect(s.runtime).toBe('python');
    expect(s.benchmarks.map((b) => [b.name, b.seconds, b.referenceSeconds])).toEqual([
      ['nbody', 0.05, 0.1],
      ['regex', 0.2, 0.1],
    ]);
    expect(s.score).toBe(1);
  });

  it('rejects a score that is not the geometric mean', () => {
    expectProbeError(() => parseSuiteOutput(suiteLine({ score: 1.25 })), 'parse_error', /geometric mean/);
  });

  it('rejects a benchmark score that is not reference / seconds', () => {
    const bad = [{ name: 'nbody', repetitions: 1, rounds: 1, seconds: 0.05, reference_seconds: 0.1, score: 3 }];
    expectProbeError(() => parseSuiteOutput(suiteLine({ score: 3 }, bad)), 'parse_error', /nbody/);
  });

  it('rejects other JSON, unknown runtimes, empty lists and duplicates', () => {
    expectProbeError(() => parseSuiteOutput('{"suite":"other"}'), 'parse_error');
    expectProbeError(() => parseSuiteOutput(suiteLine({ runtime: 'ruby' })), 'parse_error', /runtime/);
    expectProbeError(() => parseSuiteOutput(suiteLine({}, [])), 'parse_error', /no benchmarks/);
    const b = { name: 'nbody', repetitions: 1, rounds: 1, seconds: 0.1, reference_seconds: 0.1, score: 1 };
    expectProbeError(() => parseSuiteOutput(suiteLine({}, [b, b])), 'parse_error', /duplicate/);
    expectProbeError(() => parseSuiteOutput('wrong result: nbody'), 'parse_error');
  });
});

describe('parseStartupOutput / parseAllocOutput', () => {
  it('reads the samples and checks the median', () => {
    const line = { runtime: 'node', command: 'node -e 0', n: 3, seconds: [0.05, 0.03, 0.04], median_seconds: 0.04 };
    expect(parseStartupOutput(JSON.stringify(line)).medianSeconds).toBe(0.04);
    expectProbeError(
      () => parseStartupOutput(JSON.stringify({ ...line, median_seconds: 0.05 })),
      'parse_error',
      /median/,
    );
    expectProbeError(() => parseStartupOutput(JSON.stringify({ ...line, n: 4 })), 'parse_error', /samples/);
  });

  it('alloc: whole pages, positive samples', () => {
    const line = { bytes: 8192, page_bytes: 4096, repeat: 2, seconds: [0.1, 0.3], median_seconds: 0.2 };
    expect(parseAllocOutput(JSON.stringify(line))).toMatchObject({ bytes: 8192, medianSeconds: 0.2 });
    expectProbeError(() => parseAllocOutput(JSON.stringify({ ...line, bytes: 8000 })), 'parse_error', /pages/);
    expectProbeError(() => parseAllocOutput(JSON.stringify({ ...line, seconds: [0.1, -1] })), 'parse_error');
  });
});

describe('version parsers', () => {
  it('python, node, curl, pip, npm', () => {
    expect(parseRuntimeVersion('python', 'Python 3.11.2\n')).toBe('3.11.2');
    expect(parseRuntimeVersion('node', 'v18.19.0\n')).toBe('18.19.0');
    expectProbeError(() => parseRuntimeVersion('node', 'Python 3.11.2'), 'parse_error');
    expect(parseCurlVersion('curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.19\nRelease-Date: x')).toBe(
      '7.88.1',
    );
    expect(parsePipVersion('pip 23.0.1 from /usr/lib/python3/dist-packages/pip (python 3.11)\n')).toBe('23.0.1');
    expect(parseNpmVersion('9.2.0\n')).toBe('9.2.0');
    expectProbeError(() => parseNpmVersion('npm ERR! x'), 'parse_error');
  });
});

describe('curl timing', () => {
  it('parses the -w line and derives the handshake RTT', () => {
    const t = parseCurlWriteOut('e2bbench 200 0.000012 0.000512 0.001200 0.004500 2097152 466033777.000\n');
    expect(t).toMatchObject({ httpCode: 200, sizeBytes: 2097152, bytesPerSecond: 466033777 });
    expect(t.rttSeconds).toBeCloseTo(0.0005, 9);
    expectProbeError(() => parseCurlWriteOut('curl: (7) Failed to connect'), 'parse_error');
  });

  it('builds a GET that discards the body, with a time limit', () => {
    const args = curlArgs('http://127.0.0.1:8080/obj', 30);
    expect(args.slice(0, 5)).toEqual(['-sS', '-o', '/dev/null', '--max-time', '30']);
    expect(args.at(-1)).toBe('http://127.0.0.1:8080/obj');
    expect(args[args.indexOf('-w') + 1]).toMatch(/^e2bbench %\{http_code\}/);
  });
});

describe('package manager commands', () => {
  it('pip: fresh --target, no cache, the index, trusted host only for plain HTTP', () => {
    const http = pipInstallArgs({
      indexUrl: 'http://127.0.0.1:3141/simple/',
      target: '/tmp/t',
      packages: ['six==1.16.0'],
    });
    expect(http.slice(0, 3)).toEqual(['-m', 'pip', 'install']);
    expect(http).toEqual(
      expect.arrayContaining(['--no-cache-dir', '--target', '/tmp/t', '--trusted-host', '127.0.0.1:3141']),
    );
    expect(http[http.indexOf('--index-url') + 1]).toBe('http://127.0.0.1:3141/simple/');
    expect(http.at(-1)).toBe('six==1.16.0');
    const https = pipInstallArgs({ indexUrl: 'https://pypi.example/simple/', target: '/tmp/t', packages: ['a'] });
    expect(https).not.toContain('--trusted-host');
  });

  it('npm: own prefix and empty cache, the registry', () => {
    const a = npmInstallArgs({
      registry: 'http://r/',
      prefix: '/tmp/p',
      cache: '/tmp/c',
      packages: ['is-number@7.0.0'],
    });
    expect(a[0]).toBe('install');
    expect(a[a.indexOf('--prefix') + 1]).toBe('/tmp/p');
    expect(a[a.indexOf('--cache') + 1]).toBe('/tmp/c');
    expect(a[a.indexOf('--registry') + 1]).toBe('http://r/');
    expect(a.at(-1)).toBe('is-number@7.0.0');
  });
});

describe('sysbench memory report', () => {
  it('accepts the padded rate sysbench prints under 10000 operations/s', () => {
    const padded = fixture('sysbench-memory-read.txt')
      .replace(/Total operations: \d+ \([\d.]+ per second\)/, 'Total operations: 3837 ( 3817.50 per second)')
      .replace(/[\d.]+ MiB transferred \([\d.]+ MiB\/sec\)/, '3837.00 MiB transferred (3817.50 MiB/sec)');
    expect(padded).toContain('( 3817.50 per second)');
    const r = parseSysbenchMemory(padded);
    expect(r.operationsPerSecond).toBe(3817.5);
    expect(r.bytesPerSecond).toBe(3817.5 * 1024 * 1024);
  });
});

describe('sysbench latency percentile', () => {
  it('reads it from a memory report (the shared parser reads it for cpu only)', () => {
    const p = parseSysbenchLatencyPercentile(fixture('sysbench-memory-write.txt'));
    expect(p.rank).toBe(95);
    expect(p.seconds).toBeCloseTo(0.00006, 12);
    expect(parseSysbenchLatencyPercentile('    99th percentile:   12.50\n')).toEqual({ rank: 99, seconds: 0.0125 });
    expectProbeError(() => parseSysbenchLatencyPercentile('sysbench 1.0.20'), 'parse_error');
  });
});

describe('ps', () => {
  it('lists live processes matching a name pattern, zombies excluded', () => {
    const procs = parsePsStatComm('S    bwrap\nZ    fio\nDs   fio\nR    stress-ng-cpu\nS    bash\n');
    expect(procs).toHaveLength(5);
    expect(liveMatches(procs, /^fio/)).toEqual(['fio']);
    expect(liveMatches(procs, /^stress-ng/)).toEqual(['stress-ng-cpu']);
    expect(liveMatches(procs, /^sysbench/)).toEqual([]);
  });
});
