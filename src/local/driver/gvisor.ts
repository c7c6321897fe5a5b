import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { appendFile, chmod, chown, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import path from 'node:path';
import { Cgroups } from './cgroup.js';
import { JOIN_CGROUPS, OverlaySandbox } from './overlay-sandbox.js';
import { dirBytes } from './disk.js';
import { probeTrue, SANDBOX_PATH } from './namespace.js';
import { ptyArgv, resizeLine } from './pty.js';
import { run, runSync } from './run.js';
import {
  runPlain,
  type DriverSandbox,
  type ExecProcess,
  type ExecRequest,
  type ExitStatus,
  type PhaseRunner,
  type SandboxDriver,
  type SandboxResources,
  type SandboxSpec,
  type SnapshotResult,
} from './types.js';

/** Inside the sandbox: where commands keep their output, pid and exit code. */
const EXEC_DIR = '/run/e2b-exec';

/**
 * Runs "$@" with output to files next to $0, records its pid, then its exit code. Shell builtins
 * only: every exec under gVisor's ptrace platform costs ~50 ms, so no `mv` for atomic writes; the
 * host takes a pid or code only once its line is complete (see `completeLine`).
 */
const EXEC_WRAPPER =
  'd=$0; "$@" </dev/null >"$d.out" 2>"$d.err" & p=$!; echo $p >"$d.pid"; wait $p; echo $? >"$d.code"';

/** The number in a file written by one `echo`, or undefined while the write is not complete. */
export function completeLine(text: string): number | undefined {
  return /^-?\d+\n$/.test(text) ? Number(text) : undefined;
}

/** Capabilities of the sandbox's processes inside gVisor (its own kernel; these are gVisor's). */
const CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_AUDIT_WRITE',
  'CAP_SETFCAP',
];

export interface GvisorDriverOptions {
  dataDir: string;
  cgroups?: Cgroups;
  runsc?: string;
  /** runsc platform: `ptrace` works everywhere; `kvm` needs /dev/kvm. */
  platform?: 'ptrace' | 'kvm';
}

class GvisorSandbox extends OverlaySandbox {
  monitor?: ChildProcess;
  /** True while checkpointed (paused): the container is stopped on purpose. */
  checkpointed = false;
  execSeq = 0;
  /** runsc container id: a restore gets a fresh one, the stopped one is deleted in the background. */
  cid: string;
  generation = 0;
  stale: string[] = [];
  constructor(spec: SandboxSpec, dir: string) {
    super(spec, dir);
    this.cid = spec.id;
  }
  get bundle() {
    return path.join(this.dir, 'bundle');
  }
  get pauseImage() {
    return path.join(this.dir, 'paused');
  }
}

/** OCI runtime spec for the sandbox's init (`sleep infinity`) over the overlay rootfs. */
export function ociSpec(sb: { merged: string; spec: SandboxSpec }): unknown {
  const mounts: unknown[] = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs' },
    // gVisor would mount its own tmpfs here; keep /tmp on the rootfs so envd sees the same files.
    { destination: '/tmp', type: 'bind', source: path.join(sb.merged, 'tmp'), options: ['rbind', 'rw'] },
  ];
  for (const b of sb.spec.binds ?? [])
    mounts.push({
      destination: b.target,
      type: 'bind',
      source: b.source,
      options: ['rbind', b.readOnly ? 'ro' : 'rw'],
    });
  return {
    ociVersion: '1.0.0',
    process: {
      user: { uid: 0, gid: 0 },
      args: ['sleep', 'infinity'],
      env: [`PATH=${SANDBOX_PATH}`],
      cwd: '/',
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
    },
    root: { path: sb.merged, readonly: false },
    hostname: sb.spec.hostname ?? 'e2b',
    mounts,
    linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }] },
  };
}

/**
 * Sandboxes under gVisor (runsc): a user-space kernel between the sandbox and the host. Pause is a
 * real checkpoint (memory and processes written to disk, the sandbox stopped), resume a restore.
 * runsc cannot checkpoint a sandbox on the host network, so sandboxes get only their own loopback.
 */
export class GvisorDriver implements SandboxDriver {
  readonly name = 'gvisor' as const;
  readonly pauseKind = 'checkpoint' as const;
  readonly cgroups: Cgroups;
  private readonly runsc: string;
  private readonly stateDir: string;

  constructor(private readonly opts: GvisorDriverOptions) {
    this.cgroups = opts.cgroups ?? Cgroups.detect();
    this.runsc = opts.runsc ?? 'runsc';
    this.stateDir = path.join(opts.dataDir, 'runsc');
  }

  private global(): string[] {
    return [
      `--root=${this.stateDir}`,
      `--platform=${this.opts.platform ?? 'ptrace'}`,
      '--network=none',
      '--overlay2=none',
      // envd reads and writes the rootfs from the host: gVisor must not cache it as exclusive.
      '--file-access=shared',
      '--ignore-cgroups',
    ];
  }

  /**
   * Run runsc inside the sandbox's cgroup (the sandbox and gofer processes it forks stay there).
   * Its stdio is /dev/null: what it starts inherits it, and a sandbox process holding a host pipe
   * could neither be waited for nor checkpointed.
   */
  private runscIn(sb: GvisorSandbox, args: string[], timeoutMs = 60_000): Promise<void> {
    const argv = ['-c', JOIN_CGROUPS, 'sh', ...sb.cgroup!.procsFiles, '--', this.runsc, ...this.global(), ...args];
    const child = spawn('/bin/sh', argv, { stdio: 'ignore', env: { PATH: SANDBOX_PATH } });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`runsc ${args[0]} failed (${code ?? signal})`));
      });
    });
  }

  private watch(sb: GvisorSandbox): void {
    const m = spawn(this.runsc, [...this.global(), 'wait', sb.cid], { stdio: 'ignore' });
    sb.monitor = m;
    m.once('exit', () => {
      if (sb.monitor !== m || sb.checkpointed) return;
      sb.dead = true;
      sb.markExited();
    });
  }

  async create(spec: SandboxSpec, phase: PhaseRunner = runPlain): Promise<DriverSandbox> {
    const sb = new GvisorSandbox(spec, path.join(this.opts.dataDir, 'sandboxes', spec.id));
    try {
      await mkdir(this.stateDir, { recursive: true });
      await sb.setUp(this.cgroups, phase, [sb.bundle]);
      await mkdir(path.join(sb.merged, 'tmp'), { recursive: true });
      await writeFile(path.join(sb.bundle, 'config.json'), JSON.stringify(ociSpec(sb)));
      if (spec.checkpointDir) {
        await phase('spawn', () =>
          this.runscIn(sb, [
            'restore',
            `--image-path=${spec.checkpointDir}`,
            `--bundle=${sb.bundle}`,
            '--detach',
            sb.cid,
          ]),
        );
      } else {
        await phase('spawn', () => this.runscIn(sb, ['run', `--bundle=${sb.bundle}`, '--detach', sb.cid]));
      }
      this.watch(sb);
      await phase('ready', () => this.probe(sb));
      return sb;
    } catch (err) {
      await this.kill(sb).catch(() => undefined);
      throw err;
    }
  }

  private async probe(sb: GvisorSandbox): Promise<void> {
    await probeTrue(this, sb);
  }

  /**
   * Commands run detached inside the sandbox with their output in files of the sandbox's own
   * filesystem (read from the host through the rootfs): a process holding host pipes or sockets
   * could not be checkpointed, and this way a background command survives pause + resume.
   * stdin is not available under this driver, except on a pty (input is a file the relay polls).
   */
  async exec(sandbox: DriverSandbox, req: ExecRequest): Promise<ExecProcess> {
    const sb = sandbox as GvisorSandbox;
    if (sb.dead || sb.checkpointed) throw new Error('sandbox is not running');
    const n = ++sb.execSeq;
    const hostDir = path.join(sb.merged, EXEC_DIR);
    await mkdir(hostDir, { recursive: true });
    await chmod(hostDir, 0o1777);
    const base = path.join(hostDir, String(n));
    // A pty command's input and resize lines are files too, appended here and polled by its relay.
    const files = req.pty ? ['.out', '.err', '.in', '.ctl'] : ['.out', '.err'];
    for (const ext of files) {
      await writeFile(base + ext, '', { mode: 0o600 });
      await chown(base + ext, req.uid, req.gid);
    }
    const inside = `${EXEC_DIR}/${n}`;
    const argv = req.pty
      ? ptyArgv(req.argv, req.pty, { input: `${inside}.in`, control: `${inside}.ctl`, signalResize: true })
      : req.argv;
    // Not --detach (this runsc appends its own flags to a detached command's argv): the exec
    // process waits in the background with /dev/null as stdio, and we follow the files.
    const args = ['exec', `--user=${req.uid}:${req.gid}`, `--cwd=${req.cwd}`];
    for (const [k, v] of Object.entries(req.env)) args.push(`--env=${k}=${v}`);
    args.push(sb.cid, '/bin/sh', '-c', EXEC_WRAPPER, inside, ...argv);
    const waiter = this.runscIn(sb, args, 24 * 3600_000).catch(() => undefined);
    let pid: number | undefined;
    for (let i = 0; i < 2000 && pid === undefined; i++) {
      try {
        pid = completeLine(await readFile(base + '.pid', 'utf8'));
      } catch {
        // not written yet
      }
      if (pid === undefined) {
        if (sb.dead) break;
        await new Promise((r) => setTimeout(r, i < 100 ? 2 : 10));
      }
    }
    if (pid === undefined) throw new Error('command did not start');
    const exec = this.follow(sb, base, pid, waiter);
    if (!req.pty) return exec;
    const stdin = createWriteStream(`${base}.in`, { flags: 'a' });
    stdin.on('error', () => undefined);
    void exec.done.then(() => stdin.destroy());
    return { ...exec, stdin, resize: (size) => appendFile(`${base}.ctl`, resizeLine(size)) };
  }

  /** Stream the output files until the exit-code file appears (or the sandbox dies). */
  private follow(sb: GvisorSandbox, base: string, pid: number, waiter: Promise<void>): ExecProcess {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const offsets = { out: 0, err: 0 };
    let signalled: NodeJS.Signals | undefined;
    const pump = async (ext: 'out' | 'err', stream: PassThrough) => {
      let fh;
      try {
        fh = await open(`${base}.${ext}`, 'r');
        for (;;) {
          const buf = Buffer.alloc(64 * 1024);
          const { bytesRead } = await fh.read(buf, 0, buf.length, offsets[ext]);
          if (bytesRead === 0) break;
          offsets[ext] += bytesRead;
          stream.write(buf.subarray(0, bytesRead));
        }
      } catch {
        // file gone (sandbox killed)
      } finally {
        await fh?.close();
      }
    };
    const done = (async (): Promise<ExitStatus> => {
      for (let i = 0; ; i++) {
        await pump('out', stdout);
        await pump('err', stderr);
        let code: number | undefined;
        try {
          code = completeLine(await readFile(`${base}.code`, 'utf8'));
        } catch {
          // still running
        }
        if (code !== undefined) {
          await pump('out', stdout);
          await pump('err', stderr);
          stdout.end();
          stderr.end();
          for (const ext of ['.out', '.err', '.pid', '.code', '.in', '.ctl']) await rm(base + ext, { force: true });
          const sig = signalled && code === 128 + (signalled === 'SIGKILL' ? 9 : 15) ? signalled : null;
          return sig ? { code: null, signal: sig } : { code, signal: null };
        }
        if (sb.dead) {
          stdout.end();
          stderr.end();
          return { code: null, signal: 'SIGKILL' };
        }
        await new Promise((r) => setTimeout(r, i < 50 ? 10 : 25));
      }
    })();
    return {
      pid,
      stdout,
      stderr,
      done,
      reaped: Promise.race([waiter, done.then(() => new Promise<void>((r) => setTimeout(r, 2000)))]),
      signal: (sig) => {
        signalled = sig;
        void run(this.runsc, [
          ...this.global(),
          'kill',
          `--pid=${pid}`,
          sb.cid,
          sig === 'SIGKILL' ? 'KILL' : 'TERM',
        ]).catch(() => undefined);
      },
    };
  }

  rootPath(sandbox: DriverSandbox): string {
    return (sandbox as GvisorSandbox).merged;
  }

  async pause(sandbox: DriverSandbox, phase: PhaseRunner = runPlain): Promise<void> {
    const sb = sandbox as GvisorSandbox;
    await rm(sb.pauseImage, { recursive: true, force: true });
    sb.checkpointed = true;
    try {
      await phase('checkpoint', () =>
        this.runscIn(sb, ['checkpoint', `--image-path=${sb.pauseImage}`, sb.cid], 600_000),
      );
    } catch (err) {
      sb.checkpointed = false;
      throw err;
    }
    sb.monitor?.kill('SIGKILL');
    // The memory lives in the image now. `runsc delete` takes about a second, so the stopped
    // container is deleted in the background and the restore gets a new container id.
    await sb.cgroup!.kill();
    const old = sb.cid;
    sb.stale.push(old);
    sb.cid = `${sb.spec.id}-r${++sb.generation}`;
    void run(this.runsc, [...this.global(), 'delete', '--force', old])
      .catch(() => undefined)
      .then(() => (sb.stale = sb.stale.filter((c) => c !== old)));
  }

  async resume(sandbox: DriverSandbox, phase: PhaseRunner = runPlain): Promise<void> {
    const sb = sandbox as GvisorSandbox;
    await phase('restore', () =>
      this.runscIn(
        sb,
        ['restore', `--image-path=${sb.pauseImage}`, `--bundle=${sb.bundle}`, '--detach', sb.cid],
        600_000,
      ),
    );
    sb.checkpointed = false;
    this.watch(sb);
    await rm(sb.pauseImage, { recursive: true, force: true });
  }

  /**
   * Memory and processes plus the filesystem layer. This runsc's `checkpoint --leave-running`
   * hangs, so a running sandbox is checkpointed (stopped), copied, and restored in place.
   */
  async snapshot(sandbox: DriverSandbox, dir: string, phase: PhaseRunner = runPlain): Promise<SnapshotResult> {
    const sb = sandbox as GvisorSandbox;
    const layerDir = path.join(dir, 'layer');
    const checkpointDir = path.join(dir, 'checkpoint');
    await mkdir(dir, { recursive: true });
    const wasPaused = sb.checkpointed;
    if (!wasPaused) await this.pause(sb, phase);
    try {
      await run('cp', ['-a', sb.pauseImage, checkpointDir], 600_000);
      await run('cp', ['-a', '--reflink=auto', sb.upper, layerDir], 600_000);
    } finally {
      if (!wasPaused) await this.resume(sb, phase);
    }
    return { layerDir, checkpointDir, bytes: (await dirBytes(layerDir)) + (await dirBytes(checkpointDir)) };
  }

  foreground(sandbox: DriverSandbox): Promise<void> {
    return (sandbox as OverlaySandbox).foreground();
  }

  async kill(sandbox: DriverSandbox): Promise<void> {
    const sb = sandbox as GvisorSandbox;
    sb.checkpointed = false;
    await Promise.all(
      [sb.cid, ...sb.stale].map((c) =>
        run(this.runsc, [...this.global(), 'delete', '--force', c], 10_000).catch(() => undefined),
      ),
    );
    if (sb.cgroup) await sb.cgroup.kill();
    sb.monitor?.kill('SIGKILL');
    await sb.tearDown();
  }

  killSync(sandbox: DriverSandbox): void {
    const sb = sandbox as GvisorSandbox;
    for (const c of [sb.cid, ...sb.stale]) runSync(this.runsc, [...this.global(), 'delete', '--force', c]);
    sb.cgroup?.killSync();
    try {
      sb.monitor?.kill('SIGKILL');
    } catch {
      // gone
    }
    sb.tearDownSync();
  }

  stats(sandbox: DriverSandbox): Promise<SandboxResources> {
    return (sandbox as GvisorSandbox).resources();
  }

  /** Whether runsc is installed (tests and the CLI check this before choosing the driver). */
  static available(runsc = 'runsc'): boolean {
    return (
      ['/usr/bin', '/usr/local/bin', '/usr/sbin'].some((d) => existsSync(path.join(d, runsc))) ||
      runSync(runsc, ['--version'])
    );
  }
}
