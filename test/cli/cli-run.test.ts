import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

// The CLI in process, with test probes in place of the real list (cli.test.ts spawns the real one).
vi.mock('../../probes/index.js', async () => {
  const fakes = await import('../helpers/fake-probes.js');
  return { ALL_PROBES: fakes.FAKE_PROBES, probeByName: (n: string) => fakes.FAKE_PROBES.find((p) => p.name === n) };
});

/** Runs main(argv) capturing what it writes to stdout and stderr. */
async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  });
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2bbench-cli-run-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  // cmdRun leaves once-listeners for SIGINT/SIGTERM behind; don't let them pile up across tests.
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
});

describe('cli: help', () => {
  it('no command prints the usage and exits 2', async () => {
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^Usage: e2b-bench <command>/m);
  });

  it('every listed command answers --help with its usage and exit 0', async (ctx) => {
    const section = (await run('--help')).stdout.split('Commands:\n')[1].split('\n\n')[0];
    const commands = section.split('\n').map((l) => l.trim().split(/\s+/)[0]);
    expect(commands).toEqual(expect.arrayContaining(['serve', 'run', 'check-config', 'probes']));
    const pending: string[] = [];
    for (const c of commands) {
      for (const flag of ['--help', '-h']) {
        const r = await run(c, flag);
        // Commands whose module is still a stub say so; they are checked once they exist.
        if (/not available in this build yet/.test(r.stderr)) {
          pending.push(c);
          break;
        }
        expect(r.code, `${c} ${flag}`).toBe(0);
        expect(r.stdout, `${c} ${flag}`).toMatch(new RegExp(`^Usage: e2b-bench ${c}\\b`, 'm'));
      }
    }
    if (pending.length) ctx.annotate?.(`--help not testable yet (stub): ${pending.join(', ')}`);
    expect(pending.length).toBeLessThan(commands.length);
  });

  it('unknown commands and flags are usage errors (exit 2)', async () => {
    const r = await run('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
    const f = await run('run', '--nope');
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/--nope/);
    expect(f.stderr).toContain('Run "e2b-bench run --help" for usage.');
  });
});

describe('cli: check-config', () => {
  it('exits 0 on a valid file', async () => {
    const file = join(dir, 'good.yaml');
    await writeFile(file, 'targets:\n  - { name: a, cloud_provider: local }\n  - { name: b, cloud_provider: local }\n');
    const r = await run('check-config', file);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${file}: OK (2 target(s), 3 probe(s) enabled)\n`);
  });

  it('a YAML error and a missing file are reported, not thrown', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'targets: [\n');
    const r = await run('check-config', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: `);
    const missing = await run('check-config', join(dir, 'nope.yaml'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read (ENOENT)');
    expect((await run('check-config')).code).toBe(2);
  });
});

describe('cli: run', () => {
  it('--json prints one JSON object with probe, target, success, traceId, durationSeconds, metrics', async () => {
    const r = await run('run', 'fake.ok', '--json');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]);
    expect(out).toMatchObject({ probe: 'fake.ok', target: 'local', success: true });
    expect(out.reason).toBeUndefined();
    expect(out.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(out.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(out.metrics).toEqual([
      {
        name: 'e2bbench_cpu_events_per_second',
        labels: { target: 'local', cloud_provider: 'local', cloud_region: 'localhost', scope: 'host', threads: '1' },
        value: 42,
      },
      {
        name: 'e2bbench_sandbox_start_seconds',
        labels: {
          target: 'local',
          cloud_provider: 'local',
          cloud_region: 'localhost',
          template: 'base',
          start_type: 'cold',
        },
        value: 0.3,
      },
    ]);
    expect(out.phases.map((p: { name: string }) => p.name)).toEqual(['bench.fake']);
  });

  it('a failed probe: exit 1 and the reason in the JSON', async () => {
    const r = await run('run', 'fake.fail', '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ probe: 'fake.fail', success: false, reason: 'parse_error' });
  });

  it('--config, --target and --samples are honoured; the default output is a readable table', async () => {
    const file = join(dir, 'run.yaml');
    await writeFile(
      file,
      'targets:\n  - { name: a, cloud_provider: local }\n  - { name: b, cloud_provider: local, cloud_region: r2 }\nprobes:\n  fake.ok: { value: 7 }\n',
    );
    const j = JSON.parse((await run('run', 'fake.ok', '-c', file, '--target', 'b', '--samples', '3', '--json')).stdout);
    expect(j.target).toBe('b');
    expect(j.metrics[0]).toMatchObject({ labels: { target: 'b', cloud_region: 'r2' }, value: 7 });

    const t = await run('run', 'fake.ok', '--config', file, '-t', 'a');
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^fake\.ok on a: ok in \d+\.\d\d s {2}trace [0-9a-f]{32}$/m);
    expect(t.stdout).toMatch(/^cpu_events_per_second\s+scope=host threads=1\s+7$/m);
    expect(t.stdout).toMatch(/^ {2}bench\.fake\s+[\d.]+ ms$/m);

    const bad = await run('run', 'fake.ok', '--config', file, '--target', 'zz');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown target "zz" (known: a, b)');
  });

  it('checks its arguments', async () => {
    expect((await run('run')).code).toBe(2);
    expect((await run('run', 'a', 'b')).code).toBe(2);
    const s = await run('run', 'fake.ok', '--samples', '0');
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('--samples must be a positive integer');
  });

  it('probes lists every probe', async () => {
    const r = await run('probes');
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(['fake.ok', 'fake.fail', 'fake.block']);
  });
});
