import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createHostExec,
  hostExec,
  runTool,
  toShellCommand,
  toolVersion,
  type Exec,
} from '../../../probes/tools/index.js';
import { expectProbeErrorAsync } from './expect-error.js';
import { alive, waitUntil } from '../../helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'e2bbench-exec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const opts = () => ({ signal: new AbortController().signal, timeoutMs: 10_000 });

describe('host Exec', () => {
  it('returns output and exit code without throwing', async () => {
    const r = await hostExec('sh', ['-c', 'echo out; echo err >&2; exit 3'], opts());
    expect(r).toEqual({ stdout: 'out', stderr: 'err', exitCode: 3 });
  });

  it('a missing command is tool_missing naming the Debian package', async () => {
    const exec = createHostExec({ env: { PATH: dir } });
    await expectProbeErrorAsync(
      exec('sysbench', ['--version'], opts()),
      'tool_missing',
      /install the Debian package sysbench/,
    );
    await expectProbeErrorAsync(toolVersion(exec, 'stress-ng', opts()), 'tool_missing', /package stress-ng/);
  });

  it('a missing working directory is not mistaken for a missing tool', async () => {
    await expectProbeErrorAsync(hostExec('true', [], { ...opts(), cwd: join(dir, 'nope') }), 'command_failed');
  });

  it('abort kills the whole process group and rejects with the abort reason', async () => {
    const pidFile = join(dir, 'child.pid');
    const ac = new AbortController();
    const p = hostExec('sh', ['-c', `sleep 300 & echo $! > ${pidFile}; wait`], {
      signal: ac.signal,
      timeoutMs: 60_000,
    });
    await waitUntil(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(grandchild)).toBe(true);
    const reason = new Error('stop now');
    ac.abort(reason);
    await expect(p).rejects.toBe(reason);
    expect(alive(grandchild)).toBe(false);
  });

  it('timeout kills the process and fails with reason timeout', async () => {
    const pidFile = join(dir, 'timeout.pid');
    const p = hostExec('sh', ['-c', `echo $$ > ${pidFile}; sleep 300`], {
      signal: new AbortController().signal,
      timeoutMs: 300,
    });
    await expectProbeErrorAsync(p, 'timeout');
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('an already aborted signal runs nothing', async () => {
    const ac = new AbortController();
    ac.abort(new Error('early'));
    await expect(hostExec('true', [], { signal: ac.signal, timeoutMs: 1000 })).rejects.toThrow('early');
  });
});

describe('runTool', () => {
  it('non-zero exit → command_failed with a short tail of stderr', async () => {
    const err = await expectProbeErrorAsync(
      runTool(hostExec, 'sh', ['-c', 'yes line | head -n 500 >&2; echo "the real cause" >&2; exit 2'], opts()),
      'command_failed',
      /exited with code 2: .*the real cause$/s,
    );
    expect(err.message.length).toBeLessThan(400);
  });

  it('accepts listed exit codes', async () => {
    const r = await runTool(hostExec, 'sh', ['-c', 'exit 1'], { ...opts(), okExitCodes: [0, 1] });
    expect(r.exitCode).toBe(1);
  });

  it('exit 127 from a shell (as in a sandbox) → tool_missing', async () => {
    const sandboxLike: Exec = async () => ({
      stdout: '',
      stderr: 'bash: line 1: fio: command not found',
      exitCode: 127,
    });
    await expectProbeErrorAsync(runTool(sandboxLike, 'fio', ['--version'], opts()), 'tool_missing', /package fio/);
  });
});

describe('toShellCommand', () => {
  it('quotes arguments so a shell passes them through unchanged', async () => {
    const args = ['plain', 'with space', "it's", '$HOME', '--size=4k', '`x`;rm', ''];
    const line = toShellCommand('printf', ['%s\\n', ...args]);
    const r = await hostExec('sh', ['-c', line], opts());
    expect(r.stdout.split('\n')).toEqual(args);
    expect(line.startsWith('LC_ALL=C printf ')).toBe(true);
  });
});
