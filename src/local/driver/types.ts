import type { Readable, Writable } from 'node:stream';

/** Runs one named phase (a span, a histogram observation) around `fn`. */
export interface PhaseRunner {
  <T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Report a phase that was timed elsewhere (epoch milliseconds), with span attributes. */
  record?(name: string, startMs: number, endMs: number, attributes?: Record<string, string>): void;
}

export const runPlain: PhaseRunner = (_name, fn) => fn();

export type NetworkMode = 'isolated' | 'host' | 'none';

export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** What a driver needs to start a sandbox. */
export interface SandboxSpec {
  /** Internal id, unique on this host: [a-z0-9-]. */
  id: string;
  /** Root filesystem layers, topmost first (a snapshot layer, then the template rootfs). */
  lowerDirs: string[];
  /** Extra host paths made visible inside (host-derived test templates). */
  binds?: BindMount[];
  cpuCount: number;
  memoryMb: number;
  pidsMax?: number;
  /** `isolated`: own network namespace on the runtime's bridge; `none`: loopback only; `host`: the host's. */
  network: NetworkMode;
  hostname?: string;
  /** Driver-specific checkpoint image to restore from instead of booting (gvisor). */
  checkpointDir?: string;
  /**
   * Started ahead of demand (the warm pool): runs at the lowest CPU weight until `foreground`, so
   * its boot yields the CPU to sandboxes in use.
   */
  background?: boolean;
}

export interface ExecRequest {
  argv: string[];
  env: Record<string, string>;
  /** Absolute path inside the sandbox; must exist. */
  cwd: string;
  uid: number;
  gid: number;
  /** Keep stdin open as a pipe (otherwise /dev/null). */
  stdin: boolean;
  /** Run on a new pseudo-terminal of this size: output then arrives on stdout, input goes to stdin. */
  pty?: PtySize;
}

export interface PtySize {
  rows: number;
  cols: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A command started in a sandbox: its output streams, its exit, and how to signal it. */
export interface ExecProcess {
  /** Id reported to clients (unique within the sandbox). */
  pid: number;
  stdout: Readable;
  stderr: Readable;
  stdin?: Writable;
  /** Resolves once the command exited and its output was delivered (or given up on). */
  done: Promise<ExitStatus>;
  /** Resolves when nothing of it is left on the host (reaped), for clean kills. */
  reaped: Promise<void>;
  signal(sig: 'SIGKILL' | 'SIGTERM'): void;
  /** Set the size of the command's pseudo-terminal (started with `pty` only). */
  resize?(size: PtySize): Promise<void>;
}

export interface SandboxResources {
  /** CPU time used since the sandbox started, microseconds. */
  cpuUsageUsec: number;
  memoryBytes: number;
  memoryCacheBytes: number;
  memoryLimitBytes?: number;
  oomKills: number;
  pids: number;
  diskUsedBytes: number;
}

/** A running (or frozen) sandbox as a driver sees it. */
export interface DriverSandbox {
  readonly id: string;
  readonly spec: SandboxSpec;
  /** Resolves when the sandbox's init died (killed, crashed). */
  readonly exited: Promise<void>;
}

export interface SnapshotResult {
  /** Filesystem layer to stack on top of the sandbox's lower layers when restoring. */
  layerDir: string;
  /** Checkpoint image (process memory) when the driver can save it. */
  checkpointDir?: string;
  bytes: number;
}

/**
 * One way of running sandboxes. `namespace` (bubblewrap + cgroups) and `gvisor` (runsc) implement
 * it; a VM driver would too.
 */
export interface SandboxDriver {
  readonly name: 'namespace' | 'gvisor';
  /** `freeze` = processes stopped in place, nothing saved; `checkpoint` = state written to disk. */
  readonly pauseKind: 'freeze' | 'checkpoint';
  create(spec: SandboxSpec, phase?: PhaseRunner): Promise<DriverSandbox>;
  exec(sandbox: DriverSandbox, req: ExecRequest): Promise<ExecProcess>;
  /** Host path under which the sandbox's filesystem is visible (resolve paths inside it safely). */
  rootPath(sandbox: DriverSandbox): string;
  pause(sandbox: DriverSandbox, phase?: PhaseRunner): Promise<void>;
  resume(sandbox: DriverSandbox, phase?: PhaseRunner): Promise<void>;
  /** Save the sandbox's state under `dir` (the sandbox keeps running afterwards). */
  snapshot(sandbox: DriverSandbox, dir: string, phase?: PhaseRunner): Promise<SnapshotResult>;
  kill(sandbox: DriverSandbox): Promise<void>;
  /** Give a sandbox started with `background` the normal CPU weight (it was claimed). */
  foreground(sandbox: DriverSandbox): Promise<void>;
  /** Best effort, synchronous: for process exit paths. */
  killSync(sandbox: DriverSandbox): void;
  stats(sandbox: DriverSandbox): Promise<SandboxResources>;
  /** Bytes through the sandbox's own network interface, when it has one. */
  networkCounters?(sandbox: DriverSandbox): { sentBytes: number; receivedBytes: number } | undefined;
  /** The sandbox's address on the runtime's bridge and the host end of its veth, when it has them. */
  networkInfo?(sandbox: DriverSandbox): { address: string; hostInterface: string } | undefined;
}
