import { CommandExitError, type CommandHandle, type Sandbox } from 'e2b';
import { ProbeError } from '../../src/probe/reasons.js';
import { TOOL_PACKAGES, toShellCommand, type Exec } from '../tools/index.js';
import { liveMatches, parsePsStatComm } from './parsers/ps.js';

/**
 * Every command the sandbox.* probes run inside a sandbox (their packages: TOOL_PACKAGES). The
 * benchmark template (e2b.Dockerfile, packages.txt) must install these packages; a test checks
 * it, and the sandbox Exec refuses any command missing here, so the list cannot go stale.
 */
export const SANDBOX_TOOLS: readonly string[] = [
  'sysbench',
  'fio',
  'iperf3',
  'stress-ng',
  'python3',
  'pip',
  'node',
  'npm',
  'curl',
  'cat',
  'test',
  'sha256sum',
  'pkill',
  'ps',
  'bash',
  'id',
];

/**
 * Commands a probe runs only where the template has them, which the benchmark template does not
 * install (sandbox.container: an OCI runtime); absent, the probe fails with tool_missing.
 */
export const OPTIONAL_SANDBOX_TOOLS: readonly string[] = ['crun', 'runc'];

function checkDeclared(cmd: string, args: string[]): void {
  const declared = cmd === 'python3' && args[0] === '-m' ? args[1] : cmd;
  if (!SANDBOX_TOOLS.includes(declared) && !OPTIONAL_SANDBOX_TOOLS.includes(declared)) {
    throw new ProbeError('internal', `${declared} is not a declared sandbox tool (SANDBOX_TOOLS)`);
  }
}

/** Extra time the SDK's own command timeout waits past ours, so ours fires (and kills) first. */
const SDK_TIMEOUT_SLACK_MS = 15_000;

/** A sandbox command that failed to run at all (not a non-zero exit): sandbox_error. */
function sandboxError(cmd: string, err: unknown): ProbeError {
  if (err instanceof ProbeError) return err;
  return new ProbeError('sandbox_error', `${cmd} in the sandbox: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
  });
}

async function killQuietly(handle: CommandHandle): Promise<void> {
  try {
    await handle.kill();
  } catch {
    // Already gone, or the sandbox is: the run kills the sandbox anyway.
  }
}

export interface BackgroundCommand {
  /** True while the command has not exited. */
  running(): boolean;
  /** Its output so far and exit code (undefined while running). */
  result(): { stdout: string; stderr: string; exitCode?: number };
  /** Kills it (SIGKILL) and, with `reap`, every process it left behind; never throws. */
  stop(): Promise<void>;
}

/**
 * Starts a command in the sandbox without waiting for it (load generators). `timeoutMs` bounds it
 * on the SDK side too; the caller also gives the tool its own time limit as a backstop. Killing
 * the command reaches only its own process: tools that fork workers (fio, stress-ng) leave them
 * running, so `reap` names them (a `pkill` pattern on process names) to be killed as well.
 */
export async function startInSandbox(
  sandbox: Sandbox,
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; reap?: string },
): Promise<BackgroundCommand> {
  checkDeclared(cmd, args);
  let handle: CommandHandle;
  try {
    handle = await sandbox.commands.run(toShellCommand(cmd, args), {
      background: true,
      timeoutMs: opts.timeoutMs + SDK_TIMEOUT_SLACK_MS,
      requestTimeoutMs: 60_000,
    });
  } catch (err) {
    throw sandboxError(cmd, err);
  }
  let exited = false;
  let exitCode: number | undefined;
  handle.wait().then(
    (r) => {
      exited = true;
      exitCode = r.exitCode;
    },
    (err: unknown) => {
      exited = true;
      exitCode = err instanceof CommandExitError ? err.exitCode : -1;
    },
  );
  return {
    running: () => !exited,
    result: () => ({ stdout: handle.stdout, stderr: handle.stderr, exitCode }),
    async stop() {
      if (!exited) await killQuietly(handle);
      if (opts.reap !== undefined) await reap(sandboxExec(sandbox), opts.reap);
    },
  };
}

const REAP_WAIT_MS = 10_000;

/**
 * SIGKILLs every process whose name matches `pattern` until none is left alive (a process in
 * uninterruptible I/O dies only when its I/O completes). Own short limits, not the run's signal:
 * cleanup must also happen after an abort. Never throws; the sandbox dies with the run anyway.
 */
async function reap(exec: Exec, pattern: string): Promise<void> {
  const re = new RegExp(pattern);
  const o = () => ({ signal: AbortSignal.timeout(30_000), timeoutMs: 20_000 });
  const end = Date.now() + REAP_WAIT_MS;
  try {
    for (;;) {
      await exec('pkill', ['-KILL', pattern], o());
      const ps = await exec('ps', ['-eo', 'stat=,comm='], o());
      if (liveMatches(parsePsStatComm(ps.stdout), re).length === 0 || Date.now() > end) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch {
    // see above
  }
}

/**
 * Exec inside a sandbox through the SDK's command API (`bash -l -c`, as the template's default
 * user). Exit codes come back as results: the SDK raises CommandExitError on a non-zero exit, which
 * is turned back into {stdout, stderr, exitCode}, except bash's 127 "command not found", which is
 * tool_missing naming the Debian package. On timeout or abort the command is killed (SIGKILL)
 * before the promise settles.
 */
export function sandboxExec(sandbox: Sandbox, defaults: { envs?: Record<string, string> } = {}): Exec {
  return async (cmd, args, opts) => {
    checkDeclared(cmd, args);
    opts.signal.throwIfAborted();
    let handle: CommandHandle;
    try {
      handle = await sandbox.commands.run(toShellCommand(cmd, args), {
        background: true,
        cwd: opts.cwd,
        envs: defaults.envs,
        timeoutMs: opts.timeoutMs + SDK_TIMEOUT_SLACK_MS,
        requestTimeoutMs: 60_000,
      });
    } catch (err) {
      throw sandboxError(cmd, err);
    }
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stopped = new Promise<'timeout' | 'abort'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), opts.timeoutMs);
      onAbort = () => resolve('abort');
      opts.signal.addEventListener('abort', onAbort, { once: true });
    });
    const finished = handle.wait().then(
      (r) => ({ stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode }),
      (err: unknown) => {
        if (err instanceof CommandExitError) return { stdout: err.stdout, stderr: err.stderr, exitCode: err.exitCode };
        throw sandboxError(cmd, err);
      },
    );
    try {
      const first = await Promise.race([finished, stopped]);
      if (first === 'timeout' || first === 'abort') {
        await killQuietly(handle);
        finished.catch(() => undefined);
        if (first === 'abort') throw opts.signal.reason ?? new Error('aborted');
        throw new ProbeError('timeout', `${cmd} did not finish within ${Math.round(opts.timeoutMs / 1000)}s`);
      }
      // bash's "command not found": name the package the template lacks (the Exec contract).
      if (first.exitCode === 127 && /not found/.test(first.stderr)) {
        const pkg = TOOL_PACKAGES[cmd] ?? cmd;
        throw new ProbeError(
          'tool_missing',
          `${cmd} not found in the sandbox: the template needs the Debian package ${pkg}`,
        );
      }
      return first;
    } finally {
      clearTimeout(timer);
      if (onAbort) opts.signal.removeEventListener('abort', onAbort);
    }
  };
}
