import { rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { CgroupHandle, Cgroups } from './cgroup.js';
import { dirBytes } from './disk.js';
import { mountOverlay, unmount, unmountSync } from './overlay.js';
import type { DriverSandbox, PhaseRunner, SandboxResources, SandboxSpec } from './types.js';

/**
 * Shell prefix that writes its own pid into each cgroup.procs file given before `--`, then execs
 * the rest: the process and everything it forks start inside the sandbox's groups.
 */
export const JOIN_CGROUPS = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

/**
 * What every driver keeps per sandbox on the host: a directory holding the overlay over the
 * template's layers (upper, work, merged), the cgroup, and whether the sandbox is gone. Drivers
 * add their processes; set-up and tear-down of the shared parts live here once.
 */
export class OverlaySandbox implements DriverSandbox {
  cgroup?: CgroupHandle;
  dead = false;
  readonly exited: Promise<void>;
  markExited!: () => void;

  constructor(
    readonly spec: SandboxSpec,
    readonly dir: string,
  ) {
    this.exited = new Promise((r) => (this.markExited = r));
  }

  get id() {
    return this.spec.id;
  }
  get upper() {
    return path.join(this.dir, 'upper');
  }
  get work() {
    return path.join(this.dir, 'work');
  }
  get merged() {
    return path.join(this.dir, 'merged');
  }

  /** Makes the directories (plus `extraDirs`), mounts the rootfs overlay, creates the cgroup. */
  async setUp(cgroups: Cgroups, phase: PhaseRunner, extraDirs: string[] = []): Promise<void> {
    await Promise.all([this.upper, this.work, this.merged, ...extraDirs].map((d) => mkdir(d, { recursive: true })));
    await phase('rootfs_mount', () => mountOverlay(this.spec.lowerDirs, this.upper, this.work, this.merged));
    this.cgroup = await cgroups.create(this.spec.id, {
      cpuCount: this.spec.cpuCount,
      memoryMb: this.spec.memoryMb,
      pidsMax: this.spec.pidsMax ?? 4096,
      background: this.spec.background,
    });
  }

  /** Normal CPU weight for a sandbox started in the background (claimed from the pool). */
  async foreground(): Promise<void> {
    await this.cgroup?.foreground();
  }

  /** Once its processes are gone: unmounts, removes the directory and the cgroup, marks it dead. */
  async tearDown(): Promise<void> {
    await unmount(this.merged);
    await rm(this.dir, { recursive: true, force: true });
    if (this.cgroup) await this.cgroup.remove();
    this.dead = true;
    this.markExited();
  }

  /** tearDown for exit paths that cannot wait (signal handlers, process exit). */
  tearDownSync(): void {
    unmountSync(this.merged);
    rmSync(this.dir, { recursive: true, force: true });
    this.cgroup?.removeSync();
    this.dead = true;
  }

  /** cgroup counters plus the bytes the sandbox wrote (its upper layer). */
  async resources(): Promise<SandboxResources> {
    const cg = await this.cgroup!.stats();
    return { ...cg, diskUsedBytes: await dirBytes(this.upper) };
  }
}
