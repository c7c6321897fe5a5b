import { CommandExitError, type Sandbox } from 'e2b';
import { describe, expect, it } from 'vitest';
import { sandboxExec, startInSandbox } from '../../probes/sandbox/exec.js';
import { runTool } from '../../probes/tools/index.js';
import { expectProbeErrorAsync } from '../probes/tools/expect-error.js';

// The sandbox Exec against a stand-in for the SDK's command API (the real one is exercised
// against the local runtime in probes.test.ts): exit codes, timeouts, aborts and kills.

interface FakeCommand {
  exitCode: number;
  stdout?: string;
  stderr?: string;
  /** Never finishes by itself (until killed). */
  hang?: boolean;
}

function fakeSandbox(behave: (cmd: string) => FakeCommand) {
  const calls: { cmd: string; opts: Record<string, unknown> }[] = [];
  const killed: string[] = [];
  const sandbox = {
    commands: {
      async run(cmd: string, opts: Record<string, unknown>) {
        calls.push({ cmd, opts });
        const b = behave(cmd);
        let finish!: () => void;
        const done = new Promise<void>((resolve) => (finish = resolve));
        if (!b.hang) finish();
        let killedExit: number | undefined;
        return {
          stdout: b.stdout ?? '',
          stderr: b.stderr ?? '',
          async wait() {
            await done;
            const result = { exitCode: killedExit ?? b.exitCode, stdout: b.stdout ?? '', stderr: b.stderr ?? '' };
            if (result.exitCode !== 0) throw new CommandExitError({ ...result, error: 'exit status' });
            return result;
          },
          async kill() {
            killed.push(cmd);
            killedExit = 137;
            finish();
            return true;
          },
        };
      },
    },
  } as unknown as Sandbox;
  return { sandbox, calls, killed };
}

const opts = () => ({ signal: new AbortController().signal, timeoutMs: 5000 });

describe('sandboxExec', () => {
  it('quotes the command, runs it in the background with the SDK timeout past ours', async () => {
    const f = fakeSandbox(() => ({ exitCode: 0, stdout: 'sysbench 1.0.20\n' }));
    const r = await sandboxExec(f.sandbox)('sysbench', ['--version', "it's"], { ...opts(), cwd: '/tmp' });
    expect(r).toEqual({ stdout: 'sysbench 1.0.20\n', stderr: '', exitCode: 0 });
    expect(f.calls[0].cmd).toBe(`LC_ALL=C sysbench --version 'it'\\''s'`);
    expect(f.calls[0].opts).toMatchObject({ background: true, cwd: '/tmp' });
    expect(f.calls[0].opts.timeoutMs as number).toBeGreaterThan(5000);
  });

  it('returns non-zero exits as results; command not found is tool_missing naming the package', async () => {
    const f = fakeSandbox((cmd) =>
      cmd.includes('fio') ? { exitCode: 1, stderr: 'fio: bad' } : { exitCode: 127, stderr: 'command not found' },
    );
    const exec = sandboxExec(f.sandbox);
    expect(await exec('fio', ['x'], opts())).toEqual({ stdout: '', stderr: 'fio: bad', exitCode: 1 });
    await expectProbeErrorAsync(runTool(exec, 'node', ['--version'], opts()), 'tool_missing', /package nodejs/);
  });

  it('kills the command and fails with timeout when it overruns', async () => {
    const f = fakeSandbox(() => ({ exitCode: 0, hang: true }));
    await expectProbeErrorAsync(
      sandboxExec(f.sandbox)('stress-ng', ['--cpu', '1'], { ...opts(), timeoutMs: 50 }),
      'timeout',
      /stress-ng/,
    );
    expect(f.killed).toHaveLength(1);
  });

  it('kills the command and rethrows the abort reason when the run is aborted', async () => {
    const f = fakeSandbox(() => ({ exitCode: 0, hang: true }));
    const ac = new AbortController();
    const p = sandboxExec(f.sandbox)('sysbench', ['cpu', 'run'], { signal: ac.signal, timeoutMs: 60_000 });
    setTimeout(() => ac.abort(new Error('run aborted')), 20);
    await expect(p).rejects.toThrow('run aborted');
    expect(f.killed).toHaveLength(1);
  });

  it('refuses commands the template is not declared to provide', async () => {
    const f = fakeSandbox(() => ({ exitCode: 0 }));
    await expectProbeErrorAsync(sandboxExec(f.sandbox)('gcc', ['-v'], opts()), 'internal', /SANDBOX_TOOLS/);
    await expectProbeErrorAsync(
      sandboxExec(f.sandbox)('python3', ['-m', 'venv', '/tmp/v'], opts()),
      'internal',
      /venv/,
    );
    expect(await sandboxExec(f.sandbox)('python3', ['-m', 'pip', '--version'], opts())).toMatchObject({ exitCode: 0 });
    expect(f.calls).toHaveLength(1);
  });

  it('a failure of the command API itself is sandbox_error', async () => {
    const sandbox = {
      commands: {
        run: async () => {
          throw new Error('connection reset');
        },
      },
    } as unknown as Sandbox;
    await expectProbeErrorAsync(sandboxExec(sandbox)('fio', [], opts()), 'sandbox_error', /connection reset/);
  });
});

describe('startInSandbox', () => {
  it('reports running, then the exit after stop(); reaps the workers it forked', async () => {
    // The first ps still shows a worker in uninterruptible I/O; the second shows only a zombie.
    let psCalls = 0;
    const f = fakeSandbox((cmd) => {
      if (cmd.includes('pkill')) return { exitCode: 0 };
      if (cmd.includes(' ps '))
        return { exitCode: 0, stdout: ++psCalls === 1 ? 'Ds stress-ng-cpu\nS bash\n' : 'Z stress-ng\n' };
      return { exitCode: 0, hang: true, stderr: 'load' };
    });
    const bg = await startInSandbox(f.sandbox, 'stress-ng', ['--cpu', '1'], { timeoutMs: 1000, reap: '^stress-ng' });
    expect(bg.running()).toBe(true);
    await bg.stop();
    await new Promise((r) => setTimeout(r, 0));
    expect(bg.running()).toBe(false);
    expect(bg.result()).toMatchObject({ exitCode: 137, stderr: 'load' });
    expect(f.killed).toEqual(['LC_ALL=C stress-ng --cpu 1']);
    const reaps = ["LC_ALL=C pkill -KILL '^stress-ng'", 'LC_ALL=C ps -eo stat=,comm='];
    expect(f.calls.map((c) => c.cmd)).toEqual(['LC_ALL=C stress-ng --cpu 1', ...reaps, ...reaps]);
  });

  it('refuses undeclared load commands', async () => {
    const f = fakeSandbox(() => ({ exitCode: 0 }));
    await expectProbeErrorAsync(startInSandbox(f.sandbox, 'yes', [], { timeoutMs: 1000 }), 'internal', /yes/);
    expect(f.calls).toHaveLength(0);
  });
});
