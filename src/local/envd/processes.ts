import type { Writable } from 'node:stream';
import type { DriverSandbox, ExecRequest, PtySize, SandboxDriver } from '../driver/types.js';

export interface ProcessConfigInfo {
  cmd: string;
  args: string[];
  envs: Record<string, string>;
  cwd?: string;
}

export interface EndInfo {
  exitCode: number;
  exited: boolean;
  status: string;
  error?: string;
}

/** Output of a command on a pseudo-terminal is one `pty` stream (envd sends no stdout/stderr then). */
export type ProcessEventItem = { kind: 'stdout' | 'stderr' | 'pty'; data: Uint8Array } | { kind: 'end'; end: EndInfo };

const SIGNAL_WORDS: Record<string, string> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGINT: 'interrupt',
  SIGHUP: 'hangup',
  SIGSEGV: 'segmentation fault',
  SIGABRT: 'aborted',
  SIGPIPE: 'broken pipe',
  SIGQUIT: 'quit',
  SIGBUS: 'bus error',
};

/** How a finished process is reported (the wording of Go's os.ProcessState, as envd reports it). */
export function endInfo(code: number | null, signal: NodeJS.Signals | null): EndInfo {
  if (signal) {
    const status = `signal: ${SIGNAL_WORDS[signal] ?? signal}`;
    return { exitCode: -1, exited: false, status, error: status };
  }
  const exitCode = code ?? -1;
  const status = `exit status ${exitCode}`;
  return exitCode === 0 ? { exitCode, exited: true, status } : { exitCode, exited: true, status, error: status };
}

export class ManagedProcess {
  private listeners = new Set<(ev: ProcessEventItem) => void>();
  end?: EndInfo;
  endedAt?: number;
  stdin?: Writable;
  /** Set for a command on a pseudo-terminal: changes the terminal's size. */
  resize?: (size: PtySize) => Promise<void>;

  constructor(
    readonly pid: number,
    readonly config: ProcessConfigInfo,
    readonly tag: string | undefined,
    private readonly deliver: (sig: 'SIGKILL' | 'SIGTERM') => void,
  ) {}

  get running(): boolean {
    return this.end === undefined;
  }

  /** Events from now on; returns the unsubscribe function. */
  subscribe(fn: (ev: ProcessEventItem) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(ev: ProcessEventItem): void {
    if (ev.kind === 'end') {
      this.end = ev.end;
      this.endedAt = Date.now();
    }
    for (const fn of this.listeners) fn(ev);
  }

  signal(sig: 'SIGKILL' | 'SIGTERM'): void {
    this.deliver(sig);
  }
}

export interface StartOptions {
  config: ProcessConfigInfo;
  exec: ExecRequest;
  tag?: string;
}

/** The processes of one sandbox, with finished ones kept a while so a late Connect sees the exit. */
export class ProcessTable {
  private procs = new Map<number, ManagedProcess>();
  /** Host processes not yet reaped (so a kill can wait until none of its children is left). */
  private unreaped = new Set<Promise<void>>();
  private markFirstDone!: () => void;
  /** Resolves when the first process started here has exited. */
  readonly firstDone = new Promise<void>((r) => (this.markFirstDone = r));

  constructor(
    private readonly driver: SandboxDriver,
    private readonly sandbox: DriverSandbox,
    private readonly keepEndedMs = 10 * 60_000,
    private readonly keepEndedMax = 512,
  ) {}

  async start(opts: StartOptions): Promise<ManagedProcess> {
    this.prune();
    const exec = await this.driver.exec(this.sandbox, opts.exec);
    const proc = new ManagedProcess(exec.pid, opts.config, opts.tag, (sig) => exec.signal(sig));
    proc.stdin = exec.stdin;
    const pty = opts.exec.pty !== undefined;
    if (pty) proc.resize = exec.resize;
    // On a pty the terminal is stdout; the relay's own stderr (its failures) is shown there too.
    exec.stdout.on('data', (d: Buffer) => proc.emit({ kind: pty ? 'pty' : 'stdout', data: new Uint8Array(d) }));
    exec.stderr.on('data', (d: Buffer) => proc.emit({ kind: pty ? 'pty' : 'stderr', data: new Uint8Array(d) }));
    this.unreaped.add(exec.reaped);
    void exec.reaped.then(() => this.unreaped.delete(exec.reaped));
    void exec.done.then(({ code, signal }) => {
      if (proc.end === undefined) proc.emit({ kind: 'end', end: endInfo(code, signal) });
      this.markFirstDone();
    });
    this.procs.set(proc.pid, proc);
    return proc;
  }

  find(selector: { pid?: number; tag?: string }): ManagedProcess | undefined {
    if (selector.pid !== undefined) return this.procs.get(selector.pid);
    if (selector.tag !== undefined) {
      let found: ManagedProcess | undefined;
      for (const p of this.procs.values()) if (p.tag === selector.tag && (!found || p.running)) found = p;
      return found;
    }
    return undefined;
  }

  running(): ManagedProcess[] {
    return [...this.procs.values()].filter((p) => p.running);
  }

  killAll(): void {
    for (const p of this.running()) p.signal('SIGKILL');
  }

  /** Resolves when every process started here has exited and been reaped (or after `timeoutMs`). */
  async reaped(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...this.unreaped]), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  private prune(): void {
    const now = Date.now();
    const ended = [...this.procs.values()].filter((p) => !p.running);
    for (const p of ended) if (now - (p.endedAt ?? now) > this.keepEndedMs) this.procs.delete(p.pid);
    const excess = ended.length - this.keepEndedMax;
    for (let i = 0; i < excess; i++) this.procs.delete(ended[i]!.pid);
  }
}
