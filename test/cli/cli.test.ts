import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Result } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleValue, waitFor } from '../helpers/fake-probes.js';
import { ALL_PROBES } from '../../probes/index.js';

// The real CLI, spawned as a user would: `node bin/e2b-bench.js ...` from the checkout. Each start
// loads every probe module (seconds on a busy machine), so the processes are started together once
// and the tests look at their results; finer behaviour is tested in process (cli-run.test.ts).
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const cli = (...args: string[]) =>
  execa('node', ['bin/e2b-bench.js', ...args], { cwd: ROOT, reject: false, timeout: 90_000 });

const hasHostInfo = ALL_PROBES.some((p) => p.name === 'host.info');
const known = ALL_PROBES.map((p) => p.name).join(', ');
let dir: string;
let badFile: string;
const results: Record<string, Result> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2bbench-cli-'));
  badFile = join(dir, 'bad.yaml');
  await writeFile(
    badFile,
    [
      'server: { listen: nowhere }',
      'targets:',
      '  - { name: a, cloud_provider: ibm }',
      '  - { name: b, cloud_provider: local, pricing: { hourly_usd: abc } }',
      'probes:',
      '  no.such.probe: {}',
      '',
    ].join('\n'),
  );
  const runs: [string, Promise<Result>][] = [
    ['help', cli('--help')],
    ['checkBad', cli('check-config', badFile)],
    ['runUnknown', cli('run', 'no.such.probe', '--json')],
  ];
  // A local target with its own connection: host probes need no sandboxes, so the embedded local
  // runtime (which the default config starts) stays off; nothing listens on port 1.
  const hostFile = join(dir, 'host.yaml');
  await writeFile(
    hostFile,
    'targets:\n  - name: node1\n    cloud_provider: local\n    cloud_region: here\n' +
      '    e2b: { api_url: "http://127.0.0.1:1", sandbox_url: "http://127.0.0.1:1" }\n',
  );
  if (hasHostInfo) runs.push(['runHostInfo', cli('run', 'host.info', '--json', '--config', hostFile)]);
  for (const [k, r] of runs) results[k] = await r;
  // A hung CLI would show up as a timeout here rather than as an odd assertion later.
  for (const [k, r] of Object.entries(results)) expect(r.timedOut, k).toBe(false);
}, 180_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cli (spawned)', () => {
  it('--help prints the command list and exits 0', () => {
    const r = results.help;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Usage: e2b-bench <command> \[options\]$/m);
    expect(r.stdout).toMatch(/^ {2}check-config /m);
  });

  it('check-config on a bad file exits non-zero listing every error with its path', () => {
    const r = results.checkBad;
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    const lines = String(r.stderr).trim().split('\n');
    expect(lines[0]).toBe('invalid configuration:');
    expect(lines.slice(1).map((l) => l.trim())).toEqual([
      'server.listen: expected HOST:PORT',
      'targets[0].cloud_provider: expected one of aws, azure, gcp, e2b, local, got "ibm"',
      'targets[1].pricing.hourly_usd: expected number, got "abc"',
      `probes["no.such.probe"]: unknown probe (known: ${known})`,
    ]);
  });

  it('run with an unknown probe is a usage error naming the known ones; stdout stays empty', () => {
    const r = results.runUnknown;
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`unknown probe "no.such.probe" (known: ${known})`);
  });

  if (hasHostInfo) {
    it('run host.info --json prints one JSON object', () => {
      const r = results.runHostInfo;
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      const lines = String(r.stdout).trim().split('\n');
      expect(lines).toHaveLength(1);
      const out = JSON.parse(lines[0]);
      // A host probe describes this machine, not the configured target (which declares no host: self).
      expect(out).toMatchObject({ probe: 'host.info', target: hostname(), success: true });
      expect(out.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(out.durationSeconds).toBeGreaterThan(0);
      const info = out.metrics.find((m: { name: string }) => m.name === 'e2bbench_host_info');
      expect(info.value).toBe(1);
      expect(info.labels).toMatchObject({ host: hostname(), cloud_provider: 'unknown', cloud_region: 'unknown' });
      expect(info.labels.target).toBeUndefined();
      expect(Number(info.labels.cores)).toBeGreaterThan(0);
    });
  } else {
    it.todo('run host.info --json through bin/e2b-bench.js (TODO: host.info is not registered in probes/ yet)');
  }
});

describe('cli serve (spawned)', () => {
  it('serves, reloads on SIGHUP (a bad file keeps the old config) and stops on SIGTERM', async () => {
    const file = join(dir, 'serve.yaml');
    const target = (name: string) =>
      `  - name: ${name}\n    cloud_provider: local\n    e2b: { api_url: "http://127.0.0.1:1", sandbox_url: "http://127.0.0.1:1" }\n`;
    // No probe runs: this is about the process, not measurements.
    const probes = `probes:\n${ALL_PROBES.map((p) => `  ${p.name}: { enabled: false }`).join('\n')}\n`;
    await writeFile(file, `targets:\n${target('n1')}${probes}`);
    const child = execa('node', ['bin/e2b-bench.js', 'serve', '--config', file, '--listen', '127.0.0.1:0'], {
      cwd: ROOT,
      reject: false,
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await waitFor(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(stderr), 60_000, 'the listening line');
      const base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)![1];
      expect((await fetch(`${base}/-/ready`)).status).toBe(200);
      const gauge = async (name: string, labels: Record<string, string> = {}) =>
        sampleValue(await (await fetch(`${base}/metrics`)).text(), name, labels);
      expect(await gauge('e2bbench_target_info', { target: 'n1' })).toBe(1);

      await writeFile(file, `targets:\n${target('n1')}  - { name: n2, cloud_provider: mars }\n`);
      child.kill('SIGHUP');
      await waitFor(() => /keeping the running config/.test(stderr), 10_000, 'the failed reload');
      expect(stderr).toContain('targets[1].cloud_provider: expected one of');
      expect(await gauge('e2bbench_config_last_reload_successful')).toBe(0);

      await writeFile(file, `targets:\n${target('n1')}${target('n2')}${probes}`);
      child.kill('SIGHUP');
      await waitFor(() => /config reloaded from/.test(stderr), 10_000, 'the reload');
      expect(await gauge('e2bbench_config_last_reload_successful')).toBe(1);
      expect(await gauge('e2bbench_target_info', { target: 'n2' })).toBe(1);

      child.kill('SIGTERM');
      const r = await child;
      expect(r.exitCode).toBe(0);
    } finally {
      // A no-op once the process has exited (execa's promise has no exitCode to check).
      child.kill('SIGKILL');
    }
  }, 90_000);
});
