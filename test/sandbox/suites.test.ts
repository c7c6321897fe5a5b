import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllocOutput, parseStartupOutput, parseSuiteOutput } from '../../probes/sandbox/parsers/bench.js';
import { BENCH_DIR, brokenBenchCopy } from './bench-dir.js';

// The bench programs run here on the host at the smallest scale: the same files the probes run
// inside sandboxes. Assertions are about correctness and shape, never speed.
const BENCHMARKS = ['nbody', 'spectral_norm', 'fannkuch', 'richards', 'json_roundtrip', 'regex'];
/** A deliberate break of a suite's source: [benchmark, text, replacement]. */
type Break = [string, string, string];
interface RuntimeFiles {
  cmd: string;
  suite: string;
  startup: string;
  breaks: Break[];
}

// Each runtime with two deliberate breaks of its own source.
const RUNTIMES: Record<'python' | 'node', RuntimeFiles> = {
  python: {
    cmd: 'python3',
    suite: 'python/suite.py',
    startup: 'python/startup.py',
    breaks: [
      ['nbody', 'NBODY_DT = 0.01', 'NBODY_DT = 0.0101'],
      ['regex', 'len(re.sub(r"([a-z]+)@([a-z]+)", r"\\2 at \\1", text)),', 'len(text),'],
    ],
  },
  node: {
    cmd: process.execPath,
    suite: 'node/suite.mjs',
    startup: 'node/startup.mjs',
    breaks: [
      ['nbody', 'const NBODY_DT = 0.01;', 'const NBODY_DT = 0.0101;'],
      ['regex', "text.replace(/([a-z]+)@([a-z]+)/g, '$2 at $1').length,", 'text.length,'],
    ],
  },
};

const run = (cmd: string, args: string[]) => execa(cmd, args, { reject: false, timeout: 120_000 });

describe.each(Object.entries(RUNTIMES))('%s suite', (runtime, r) => {
  const cleanup: (() => void)[] = [];
  afterAll(() => cleanup.forEach((f) => f()));

  it('runs every benchmark, checks itself and prints one parseable JSON line', async () => {
    const res = await run(r.cmd, [join(BENCH_DIR, r.suite), '--scale', '0.3']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout.trim().split('\n')).toHaveLength(1);
    const suite = parseSuiteOutput(res.stdout);
    expect(suite.runtime).toBe(runtime);
    expect(suite.scale).toBe(0.3);
    expect(suite.benchmarks.map((b) => b.name)).toEqual(BENCHMARKS);
    for (const b of suite.benchmarks) {
      expect(b.repetitions).toBe(1);
      expect(b.seconds).toBeGreaterThan(0);
      expect(b.score).toBeCloseTo(b.referenceSeconds / b.seconds, 6);
    }
    expect(suite.score).toBeGreaterThan(0);
  });

  it('--scale sets the repetitions, --only the benchmarks', async () => {
    const res = await run(r.cmd, [join(BENCH_DIR, r.suite), '--scale', '1', '--only', 'richards']);
    expect(res.exitCode, res.stderr).toBe(0);
    const suite = parseSuiteOutput(res.stdout);
    expect(suite.benchmarks.map((b) => [b.name, b.repetitions])).toEqual([['richards', 3]]);
    expect(suite.score).toBeCloseTo(suite.benchmarks[0].score, 9);
  });

  it.each(r.breaks)('a wrong %s result exits non-zero with no score', async (name, from, to) => {
    const broken = brokenBenchCopy(r.suite, from, to);
    cleanup.push(broken.remove);
    const res = await run(r.cmd, [join(broken.dir, r.suite), '--scale', '0.3', '--only', name]);
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(new RegExp(`wrong result: ${name}:`));
    expect(res.stdout).toBe('');
  });

  it('rejects a non-positive scale', async () => {
    const res = await run(r.cmd, [join(BENCH_DIR, r.suite), '--scale', '0']);
    expect(res.exitCode).toBe(2);
    expect(res.stdout).toBe('');
  });

  it('times interpreter starts: n samples and their median', async () => {
    const res = await run(r.cmd, [join(BENCH_DIR, r.startup), '--n', '3']);
    expect(res.exitCode, res.stderr).toBe(0);
    const s = parseStartupOutput(res.stdout);
    expect(s.runtime).toBe(runtime);
    expect(s.seconds).toHaveLength(3);
    expect(s.medianSeconds).toBe([...s.seconds].sort((a, b) => a - b)[1]);
  });
});

describe('alloc.py', () => {
  it('allocates and touches the requested size, page-rounded, and reports the median', async () => {
    const res = await run('python3', [
      join(BENCH_DIR, 'alloc.py'),
      '--bytes',
      String(8 * 1024 * 1024 + 100),
      '--repeat',
      '3',
    ]);
    expect(res.exitCode, res.stderr).toBe(0);
    const a = parseAllocOutput(res.stdout);
    expect(a.bytes).toBe(8 * 1024 * 1024);
    expect(a.seconds).toHaveLength(3);
    expect(a.medianSeconds).toBe([...a.seconds].sort((x, y) => x - y)[1]);
  });

  it('refuses sizes under one page', async () => {
    const res = await run('python3', [join(BENCH_DIR, 'alloc.py'), '--bytes', '100']);
    expect(res.exitCode).toBe(2);
    expect(res.stdout).toBe('');
  });
});
