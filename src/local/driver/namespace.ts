import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { Cgroups } from './cgroup.js';
import { JOIN_CGROUPS, OverlaySandbox } from './overlay-sandbox.js';
import { run } from './run.js';
import { dirBytes } from './disk.js';
import type { NetCounters, NetSlot, SandboxNetwork } from './netns.js';
import { processStart as startTime } from './process-start.js';
import { ptyArgv, resizeLine } from './pty.js';
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

export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Capabilities a sandbox process may keep (Docker's default set minus mknod and net_raw): root
 * inside can install packages and chown, but cannot mount, load modules, trace or make devices.
 */
const BOUNDING_SET =
  '-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap,+setfcap,+net_bind_service,+sys_chroot,+audit_write';

export interface NamespaceDriverOptions {
  /** Per-sandbox upper, work and merged directories live under `<dataDir>/sandboxes`. */
  dataDir: string;
  cgroups?: Cgroups;
  bwrap?: string;
  /** Own network namespaces for sandboxes whose spec asks for `isolated`. */
  network?: SandboxNetwork;
}

/**
 * An ExecProcess over a host child process. Output still in the pipes is delivered before the
 * exit; descendants that keep the pipes open hold the exit back only briefly (envd, too, closes
 * the pipes when the process exits).
 */
export function fromChild(child: ChildProcess): ExecProcess {
  child.stdin?.on('error', () => undefined);
  // A pty command's relay reads resize lines on fd 3.
  const control = child.stdio[3] as Writable | null | undefined;
  control?.on('error', () => undefined);
  const reaped = new Promise<void>((r) => child.once('exit', () => r()));
  const done = new Promise<ExitStatus>((resolve) => {
    let closed = false;
    child.once('close', () => (closed = true));
    child.once('exit', (code, signal) => {
      if (closed) return resolve({ code, signal });
      const t = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve({ code, signal });
      }, 100);
      child.once('close', () => {
        clearTimeout(t);
        resolve({ code, signal });
      });
    });
  });
  return {
    pid: child.pid!,
    stdout: child.stdout!,
    stderr: child.stderr!,
    stdin: child.stdin ?? undefined,
    done,
    reaped,
    resize: control
      ? (size) =>
          new Promise<void>((resolve, reject) => control.write(resizeLine(size), (e) => (e ? reject(e) : resolve())))
      : undefined,
    signal(sig) {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        try {
          child.kill(sig);
        } catch {
          // already gone
        }
      }
    },
  };
}

/** Run `true` as root in the sandbox; throws unless it exits 0 (the sandbox can run commands). */
export async function probeTrue(driver: SandboxDriver, sb: DriverSandbox): Promise<void> {
  const p = await driver.exec(sb, {
    argv: ['true'],
    env: { PATH: SANDBOX_PATH },
    cwd: '/',
    uid: 0,
    gid: 0,
    stdin: false,
  });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  p.stdout.resume();
  const { code } = await p.done;
  if (code !== 0) throw new Error(`sandbox did not become ready (probe exited ${code}: ${stderr.trim()})`);
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

class NamespaceSandbox extends OverlaySandbox {
  initPid = 0;
  initStart?: string;
  outer?: ChildProcess;
  setpriv = false;
  net?: NetSlot;
}

/**
 * Sandboxes as bubblewrap process trees: own pid/mount/uts/ipc (and optionally net) namespaces, a
 * per-sandbox overlayfs over the template rootfs, cgroup limits. The init is a `sleep infinity`
 * under bwrap's pid-1 reaper; commands join its namespaces with nsenter.
 */
export class NamespaceDriver implements SandboxDriver {
  readonly name = 'namespace' as const;
  readonly pauseKind = 'freeze' as const;
  readonly cgroups: Cgroups;
  private readonly bwrap: string;

  constructor(private readonly opts: NamespaceDriverOptions) {
    this.cgroups = opts.cgroups ?? Cgroups.detect();
    this.bwrap = opts.bwrap ?? 'bwrap';
  }

  async create(spec: SandboxSpec, phase: PhaseRunner = runPlain): Promise<DriverSandbox> {
    const sb = new NamespaceSandbox(spec, path.join(this.opts.dataDir, 'sandboxes', spec.id));
    try {
      await sb.setUp(this.cgroups, phase);
      if (spec.network === 'isolated') {
        const network = this.opts.network;
        if (!network) throw new Error('isolated network requested but the runtime has no sandbox network');
        sb.net = await phase('network', () => network.take());
      }
      await phase('spawn', () => this.spawnInit(sb));
      await phase('ready', () => this.waitReady(sb));
      return sb;
    } catch (err) {
      await this.kill(sb).catch(() => undefined);
      throw err;
    }
  }

  private spawnInit(sb: NamespaceSandbox): Promise<void> {
    const spec = sb.spec;
    const args = ['--bind', sb.merged, '/'];
    for (const b of spec.binds ?? []) args.push(b.readOnly ? '--ro-bind' : '--bind', b.source, b.target);
    args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/dev/shm');
    args.push('--unshare-pid', '--unshare-ipc', '--unshare-uts');
    if (spec.network === 'none') args.push('--unshare-net');
    args.push('--hostname', spec.hostname ?? 'e2b', '--die-with-parent', '--info-fd', '3', '--', 'sleep', 'infinity');
    // An isolated sandbox starts inside its prepared network namespace (bwrap cannot join one).
    const enterNet = sb.net ? ['nsenter', `--net=${this.opts.network!.path(sb.net)}`, '--'] : [];
    const child = spawn(
      '/bin/sh',
      ['-c', JOIN_CGROUPS, 'sh', ...sb.cgroup!.procsFiles, '--', ...enterNet, this.bwrap, ...args],
      {
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
        env: { PATH: SANDBOX_PATH, HOME: '/root' },
      },
    );
    sb.outer = child;
    child.on('exit', () => {
      sb.dead = true;
      sb.markExited();
    });
    return new Promise((resolve, reject) => {
      let info = '';
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const fd3 = child.stdio[3] as NodeJS.ReadableStream;
      const onData = (d: Buffer) => {
        info += d.toString();
        const m = /"child-pid":\s*(\d+)/.exec(info);
        if (m) {
          sb.initPid = Number(m[1]);
          // bwrap's outer (monitor) process leaves the sandbox's group: a kill then takes the
          // namespace's init, whose exit the monitor reaps, instead of orphaning it to the host init.
          for (const f of this.cgroups.ownProcsFiles()) {
            try {
              writeFileSync(f, String(child.pid));
            } catch {
              // left in the group: still killed, only reaped later
            }
          }
          fd3.removeListener('data', onData);
          resolve();
        }
      };
      fd3.on('data', onData);
      child.once('exit', (code, signal) => {
        if (!sb.initPid)
          reject(new Error(`bwrap exited (${code ?? signal}) before the sandbox started: ${stderr.trim()}`));
      });
      child.once('error', reject);
    });
  }

  /** bwrap reports the pid before the mounts are done; the init's command running means they are. */
  private async waitForInit(sb: NamespaceSandbox, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const childrenFile = `/proc/${sb.initPid}/task/${sb.initPid}/children`;
    for (let i = 0; ; i++) {
      if (sb.dead) throw new Error('sandbox init exited during start');
      try {
        const kids = (await readFile(childrenFile, 'utf8')).trim().split(/\s+/).filter(Boolean);
        for (const k of kids) if ((await readFile(`/proc/${k}/comm`, 'utf8')).trim() === 'sleep') return;
      } catch {
        // not there yet
      }
      if (Date.now() > deadline) throw new Error('sandbox init did not start');
      await new Promise((r) => (i < 50 ? setImmediate(r) : setTimeout(r, 2)));
    }
  }

  private async waitReady(sb: NamespaceSandbox): Promise<void> {
    await this.waitForInit(sb);
    sb.initStart = startTime(sb.initPid);
    sb.setpriv = existsSync(`/proc/${sb.initPid}/root/usr/bin/setpriv`);
    // bwrap binds the root nosuid; E2B's templates let `user` run sudo, so where the template has
    // it the root is remounted suid (setuid root stays within the capability bounding set).
    const suid = existsSync(`/proc/${sb.initPid}/root/usr/bin/sudo`)
      ? run('nsenter', ['-t', String(sb.initPid), '-m', '--', 'mount', '-o', 'remount,bind,suid', '/'])
      : Promise.resolve('');
    await Promise.all([suid, probeTrue(this, sb)]);
  }

  async exec(sandbox: DriverSandbox, req: ExecRequest): Promise<ExecProcess> {
    const sb = sandbox as NamespaceSandbox;
    if (sb.dead || !sb.initPid) throw new Error('sandbox is not running');
    const pid = String(sb.initPid);
    const nsenter = ['nsenter', '-t', pid, '-p', '-m', '-u', '-i'];
    if (sb.spec.network !== 'host') nsenter.push('-n');
    nsenter.push('-r', `--wd=/proc/${pid}/root${req.cwd}`);
    const command = req.pty ? ptyArgv(req.argv, req.pty, { input: '0', control: '3', signalResize: false }) : req.argv;
    let argv: string[];
    if (sb.setpriv) {
      argv = [
        ...nsenter,
        '--',
        '/usr/bin/setpriv',
        `--reuid=${req.uid}`,
        `--regid=${req.gid}`,
        '--init-groups',
        '--inh-caps=-all',
        `--bounding-set=${BOUNDING_SET}`,
        '--',
        ...command,
      ];
    } else {
      // No setpriv in the rootfs: switch user with nsenter (root then keeps every capability).
      argv = [...nsenter, '-S', String(req.uid), '-G', String(req.gid), '--', ...command];
    }
    const child = spawn('/bin/sh', ['-c', JOIN_CGROUPS, 'sh', ...sb.cgroup!.procsFiles, '--', ...argv], {
      stdio: req.pty ? ['pipe', 'pipe', 'pipe', 'pipe'] : [req.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: req.env,
      // Own process group: signals reach the command and everything it started.
      detached: true,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return fromChild(child);
  }

  rootPath(sandbox: DriverSandbox): string {
    return `/proc/${(sandbox as NamespaceSandbox).initPid}/root`;
  }

  async pause(sandbox: DriverSandbox, phase: PhaseRunner = runPlain): Promise<void> {
    const sb = sandbox as NamespaceSandbox;
    await phase('freeze', () => sb.cgroup!.freeze());
  }

  async resume(sandbox: DriverSandbox, phase: PhaseRunner = runPlain): Promise<void> {
    const sb = sandbox as NamespaceSandbox;
    await phase('thaw', () => sb.cgroup!.thaw());
  }

  /** Filesystem only: the upper layer is copied while the sandbox is frozen; processes are not saved. */
  async snapshot(sandbox: DriverSandbox, dir: string, phase: PhaseRunner = runPlain): Promise<SnapshotResult> {
    const sb = sandbox as NamespaceSandbox;
    const layerDir = path.join(dir, 'layer');
    await mkdir(dir, { recursive: true });
    const wasFrozen = await sb.cgroup!.frozen();
    if (!wasFrozen) await sb.cgroup!.freeze();
    try {
      await phase('checkpoint', () => run('cp', ['-a', '--reflink=auto', sb.upper, layerDir], 600_000));
    } finally {
      if (!wasFrozen) await sb.cgroup!.thaw();
    }
    return { layerDir, bytes: await dirBytes(layerDir) };
  }

  foreground(sandbox: DriverSandbox): Promise<void> {
    return (sandbox as OverlaySandbox).foreground();
  }

  async kill(sandbox: DriverSandbox): Promise<void> {
    const sb = sandbox as NamespaceSandbox;
    let timer: NodeJS.Timeout | undefined;
    const waitExit = async (ms: number) => {
      await Promise.race([sb.exited, new Promise((r) => (timer = setTimeout(r, ms)))]);
      clearTimeout(timer);
    };
    // Kill the namespace's init first: the kernel then kills every member, and the host-side
    // nsenter parents reap their children. Killing those parents too would orphan the members
    // to the host init, and the namespace would wait for it to reap them (seconds on some hosts).
    if (sb.cgroup && (await sb.cgroup.frozen())) await sb.cgroup.thaw().catch(() => undefined);
    if (sb.initStart !== undefined && startTime(sb.initPid) === sb.initStart) {
      try {
        process.kill(sb.initPid, 'SIGKILL');
      } catch {
        // gone
      }
      if (!sb.dead) await waitExit(1000);
    }
    if (sb.cgroup) await sb.cgroup.kill();
    if (sb.outer && !sb.dead) {
      await waitExit(1000);
      if (!sb.dead) {
        sb.outer.kill('SIGKILL');
        await waitExit(2000);
      }
    }
    // The namespace's init finishes exiting only once every task of the namespace is reaped.
    for (let i = 0; i < 1000 && sb.initStart !== undefined && startTime(sb.initPid) === sb.initStart; i++) {
      await new Promise((r) => setTimeout(r, 2));
    }
    await sb.tearDown();
    if (sb.net) await this.opts.network?.release(sb.net);
    sb.net = undefined;
  }

  killSync(sandbox: DriverSandbox): void {
    const sb = sandbox as NamespaceSandbox;
    sb.cgroup?.thawSync();
    if (sb.initStart !== undefined && startTime(sb.initPid) === sb.initStart) {
      try {
        process.kill(sb.initPid, 'SIGKILL');
      } catch {
        // gone
      }
      // As in kill(): let the namespace die (its monitor reaps the init) before the host-side
      // nsenter parents are killed, or its members are orphaned to the host init.
      const deadline = Date.now() + 1000;
      while (Date.now() < deadline && startTime(sb.initPid) === sb.initStart) sleepSync(2);
    }
    sb.cgroup?.killSync();
    try {
      sb.outer?.kill('SIGKILL');
    } catch {
      // gone
    }
    sb.tearDownSync();
    if (sb.net) this.opts.network?.releaseSync(sb.net);
    sb.net = undefined;
  }

  networkCounters(sandbox: DriverSandbox): NetCounters | undefined {
    const sb = sandbox as NamespaceSandbox;
    return sb.net ? this.opts.network?.counters(sb.net) : undefined;
  }

  networkInfo(sandbox: DriverSandbox): { address: string; hostInterface: string } | undefined {
    const net = (sandbox as NamespaceSandbox).net;
    return net ? { address: net.address, hostInterface: net.veth } : undefined;
  }

  stats(sandbox: DriverSandbox): Promise<SandboxResources> {
    return (sandbox as NamespaceSandbox).resources();
  }
}
