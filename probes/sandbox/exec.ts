import { CommandExitError, type CommandHandle, type Sandbox } from 'e2b';
import { ProbeError } from '../../src/probe/reasons.js';
import { toShellCommand, type Exec } from '../tools/index.js';

/**
 * Every command the sandbox.* probes run inside a sandbox, with the Debian package that provides
 * it. The benchmark template (e2b.Dockerfile, packages.txt) must install these packages; a test
 * checks it, and the sandbox Exec refuses any command missing here, so the list cannot go stale.
 * `pip` stands for `python3 -m pip`.
 */
export const SANDBOX_TOOL_PACKAGES: Readonly<Record<string, string>> = {
  sysbench: 'sysbench',
  fio: 'fio',
  iperf3: 'iperf3',
  'stress-ng': 'stress-ng',
  python3: 'python3',
  pip: 'python3-pip',
  node: 'nodejs',
  npm: 'npm',
  curl: 'curl',
  cat: 'coreutils',
  test: 'coreutils',
  sha256sum: 'coreutils',
};

function checkDeclared(cmd: string, args: string[]): void {
  const declared = cmd === 'python3' && args[0] === '-m' ? args[1] : cmd;
  if (!Object.hasOwn(SANDBOX_TOOL_PACKAGES, declared)) {
    throw new ProbeError('internal', `${declared} is not a declared sandbox tool (SANDBOX_TOOL_PACKAGES)`);
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
  /** Kills it (SIGKILL) if still running; never throws. */
  stop(): Promise<void>;
}

/**
 * Starts a command in the sandbox without waiting for it (load generators). `timeoutMs` bounds it
 * on the SDK side too; the caller also gives the tool its own time limit as a backstop.
 */
export async function startInSandbox(
  sandbox: Sandbox,
  cmd: string,
  args: string[],
  opts: { timeoutMs: number },
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
    },
  };
}

/**
 * Exec inside a sandbox through the SDK's command API (`bash -l -c`, as the template's default
 * user). Exit codes come back as results: the SDK raises CommandExitError on a non-zero exit, which
 * is turned back into {stdout, stderr, exitCode}; 127 ("command not found") becomes tool_missing
 * in runTool. On timeout or abort the command is killed (SIGKILL) before the promise settles.
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
      return first;
    } finally {
      clearTimeout(timer);
      if (onAbort) opts.signal.removeEventListener('abort', onAbort);
    }
  };
}
