import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { ProbeError } from '../../src/probe/reasons.js';

export interface ExecOptions {
  signal: AbortSignal;
  timeoutMs: number;
  cwd?: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs one command somewhere (this host, or inside a sandbox) and returns its output whatever the
 * exit code. Implementations throw `tool_missing` when the command does not exist, `timeout` when
 * timeoutMs passes, and the signal's reason when aborted; in both of the last cases the process is
 * gone when the promise settles.
 */
export type Exec = (cmd: string, args: string[], opts: ExecOptions) => Promise<ExecResult>;

/**
 * Debian package that provides each command we run, on the host or in a sandbox (named in
 * tool_missing messages). `pip` stands for `python3 -m pip`.
 */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  sysbench: 'sysbench',
  fio: 'fio',
  iperf3: 'iperf3',
  'stress-ng': 'stress-ng',
  python3: 'python3',
  pip: 'python3-pip',
  node: 'nodejs',
  npm: 'npm',
  curl: 'curl',
  crun: 'crun',
  runc: 'runc',
  cat: 'coreutils',
  uname: 'coreutils',
  rm: 'coreutils',
  test: 'coreutils',
  nproc: 'coreutils',
  sha256sum: 'coreutils',
  pkill: 'procps',
  ps: 'procps',
  bash: 'bash',
  id: 'coreutils',
};

export function toolMissing(cmd: string): ProbeError {
  const pkg = TOOL_PACKAGES[cmd] ?? cmd;
  return new ProbeError('tool_missing', `${cmd} not found: install the Debian package ${pkg}`);
}

/** Last lines of a tool's stderr (or stdout), short enough for a log line or error message. */
export function outputTail(text: string, maxChars = 300): string {
  const t = text.trim();
  return t.length <= maxChars ? t : '…' + t.slice(t.length - maxChars);
}

const KILL_GRACE_MS = 2000;
/** Process groups still running, killed if the exporter itself exits. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  });
}

/**
 * Exec on this machine. Each command runs in its own process group so that an abort or timeout
 * also ends the workers a tool forks (fio runs each job in a child process).
 */
export function createHostExec(defaults: { env?: NodeJS.ProcessEnv } = {}): Exec {
  return async (cmd, args, opts) => {
    opts.signal.throwIfAborted();
    // spawn reports a missing cwd as ENOENT too; keep that from reading as a missing tool.
    if (opts.cwd !== undefined && !existsSync(opts.cwd)) {
      throw new ProbeError('command_failed', `${cmd}: working directory does not exist`);
    }
    installExitHook();
    const child = execa(cmd, args, {
      reject: false,
      detached: true,
      stdin: 'ignore',
      cwd: opts.cwd,
      // C locale: the parsers expect '.' decimals and English messages.
      env: { ...defaults.env, LC_ALL: 'C' },
      extendEnv: defaults.env === undefined,
      maxBuffer: 64 * 1024 * 1024,
    });
    const pid = child.pid;
    if (pid !== undefined) liveGroups.add(pid);
    let stopped: 'abort' | 'timeout' | undefined;
    let forceTimer: NodeJS.Timeout | undefined;
    const stop = (why: 'abort' | 'timeout') => {
      if (stopped || pid === undefined) return;
      stopped = why;
      killGroup(pid, 'SIGTERM');
      forceTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
    };
    const onAbort = () => stop('abort');
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => stop('timeout'), opts.timeoutMs);
    try {
      const r = await child;
      if (r.code === 'ENOENT') throw toolMissing(cmd);
      if (stopped === 'abort') throw opts.signal.reason ?? new Error('aborted');
      if (stopped === 'timeout') {
        throw new ProbeError('timeout', `${cmd} did not finish within ${Math.round(opts.timeoutMs / 1000)}s`);
      }
      if (r.exitCode === undefined) {
        throw new ProbeError('command_failed', `${cmd}: ${r.signal ? `killed by ${r.signal}` : r.shortMessage}`);
      }
      return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), exitCode: r.exitCode };
    } finally {
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      if (pid !== undefined) {
        // Workers that outlived their leader (or ignored SIGTERM) go with the group.
        if (stopped) killGroup(pid, 'SIGKILL');
        liveGroups.delete(pid);
      }
      if (forceTimer) clearTimeout(forceTimer);
    }
  };
}

export const hostExec: Exec = createHostExec();

/**
 * One shell command line from cmd + args, each single-quoted, for Execs that take a string
 * (a sandbox's command API). `LC_ALL=C` as on the host.
 */
export function toShellCommand(cmd: string, args: string[]): string {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return ['LC_ALL=C', q(cmd), ...args.map(q)].join(' ');
}

export interface RunToolOptions extends ExecOptions {
  /** Exit codes that are not failures (the caller inspects the output). Default [0]. */
  okExitCodes?: number[];
}

/**
 * Runs a tool through any Exec and fails the usual way: exit 127 ("command not found" from a
 * shell, as inside a sandbox) → tool_missing; another unexpected exit code → command_failed
 * with a short tail of its output.
 */
export async function runTool(exec: Exec, cmd: string, args: string[], opts: RunToolOptions): Promise<ExecResult> {
  const { okExitCodes = [0], ...execOpts } = opts;
  const r = await exec(cmd, args, execOpts);
  if (okExitCodes.includes(r.exitCode)) return r;
  if (r.exitCode === 127) throw toolMissing(cmd);
  const tail = outputTail(r.stderr || r.stdout);
  throw new ProbeError('command_failed', `${cmd} exited with code ${r.exitCode}${tail ? `: ${tail}` : ''}`);
}
