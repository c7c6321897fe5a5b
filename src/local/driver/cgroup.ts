import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  cpuMax,
  parseCgroupMounts,
  parseKeyValues,
  parseLimit,
  parsePids,
  parseProcCgroup,
  type CgroupLayout,
} from './cgroup-parse.js';
import { ownerAlive, parseOwnerName } from './net-plan.js';
import type { SandboxResources } from './types.js';

export interface CgroupLimits {
  /** CPUs of CFS quota (fractions allowed: 0.5 = 50 ms per 100 ms period). */
  cpuCount: number;
  memoryMb: number;
  pidsMax: number;
  /** Lowest CPU weight (work ahead of demand); `CgroupHandle.foreground` restores the default. */
  background?: boolean;
}

/** CPU weights: the kernel's default and its minimum (v1 `cpu.shares`, v2 `cpu.weight`). */
const WEIGHT = {
  1: { file: 'cpu.shares', normal: '1024', low: '2' },
  2: { file: 'cpu.weight', normal: '100', low: '1' },
};

export interface CgroupOptions {
  /**
   * false: groups are still made (freeze, kill, stats and clean-up need them) but carry no CPU
   * quota and no memory limit, so sandboxes compete like plain processes. The pids cap stays: it
   * guards the host, not fairness. Default true.
   */
  limits?: boolean;
}

/** A sandbox's resources as its group counts them (disk use is the overlay's, not the group's). */
export type CgroupStats = Omit<SandboxResources, 'diskUsedBytes'>;

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tryWrite(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch {
    // Optional knobs (memsw without swap accounting, pids on old kernels) may be missing.
  }
}

/** The cgroup hierarchy (v1 or v2) sandboxes are placed in, under one parent group. */
export class Cgroups {
  readonly limits: boolean;

  private constructor(
    readonly layout: CgroupLayout,
    readonly parent: string,
    opts: CgroupOptions,
  ) {
    this.limits = opts.limits ?? true;
  }

  static detect(parent = 'e2blocal', opts: CgroupOptions = {}): Cgroups {
    const layout = parseCgroupMounts(readFileSync('/proc/self/mounts', 'utf8'));
    return new Cgroups(layout, parent, opts);
  }

  get version(): 1 | 2 {
    return this.layout.v2 !== undefined ? 2 : 1;
  }

  /** cgroup.procs files of this process's own groups: where helper processes are moved out to. */
  ownProcsFiles(): string[] {
    const own = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
    if (this.layout.v2 !== undefined) return [path.join(this.layout.v2, own[''] ?? '/', 'cgroup.procs')];
    const files = new Set<string>();
    for (const [controller, mount] of Object.entries(this.layout.v1))
      files.add(path.join(mount, own[controller] ?? '/', 'cgroup.procs'));
    return [...files];
  }

  get available(): boolean {
    return this.layout.v2 !== undefined || this.layout.v1.memory !== undefined;
  }

  /** A group's directory in every hierarchy, by its path below the hierarchies' roots. */
  dirsOf(relative: string): Record<string, string> {
    if (this.layout.v2 !== undefined) return { unified: path.join(this.layout.v2, relative) };
    return Object.fromEntries(Object.entries(this.layout.v1).map(([c, mount]) => [c, path.join(mount, relative)]));
  }

  /** Names of the groups directly below `relative`, in any hierarchy. */
  children(relative: string): string[] {
    const names = new Set<string>();
    for (const dir of new Set(Object.values(this.dirsOf(relative)))) {
      try {
        for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) names.add(e.name);
      } catch {
        // not in this hierarchy
      }
    }
    return [...names];
  }

  /** Directories of the parent group, one per hierarchy. */
  parentDirs(): string[] {
    if (this.layout.v2 !== undefined) return [path.join(this.layout.v2, this.parent)];
    return [...new Set(Object.values(this.layout.v1))].map((m) => path.join(m, this.parent));
  }

  async create(name: string, limits: CgroupLimits): Promise<CgroupHandle> {
    if (this.layout.v2 !== undefined) {
      const root = this.layout.v2;
      const parentDir = path.join(root, this.parent);
      if (!existsSync(parentDir)) {
        await mkdir(parentDir, { recursive: true });
      }
      // Controllers must be enabled on every level from the root down to the parent.
      let level = root;
      tryWrite(path.join(level, 'cgroup.subtree_control'), '+cpu +memory +pids');
      for (const part of this.parent.split('/').filter(Boolean)) {
        level = path.join(level, part);
        tryWrite(path.join(level, 'cgroup.subtree_control'), '+cpu +memory +pids');
      }
      const dir = path.join(parentDir, name);
      await mkdir(dir);
      if (this.limits) {
        await writeFile(path.join(dir, 'cpu.max'), cpuMax(limits.cpuCount));
        await writeFile(path.join(dir, 'memory.max'), String(limits.memoryMb * 1024 * 1024));
        tryWrite(path.join(dir, 'memory.swap.max'), '0');
      }
      tryWrite(path.join(dir, 'pids.max'), String(limits.pidsMax));
      if (limits.background) tryWrite(path.join(dir, WEIGHT[2].file), WEIGHT[2].low);
      return new CgroupHandle(2, { unified: dir });
    }
    const dirs: Record<string, string> = {};
    for (const [controller, mount] of Object.entries(this.layout.v1)) {
      const dir = path.join(mount, this.parent, name);
      await mkdir(dir, { recursive: true });
      dirs[controller] = dir;
    }
    if (dirs.cpu && this.limits) {
      const [quota, period] = cpuMax(limits.cpuCount).split(' ');
      await writeFile(path.join(dirs.cpu, 'cpu.cfs_period_us'), period);
      await writeFile(path.join(dirs.cpu, 'cpu.cfs_quota_us'), quota);
    }
    if (dirs.memory && this.limits) {
      await writeFile(path.join(dirs.memory, 'memory.limit_in_bytes'), String(limits.memoryMb * 1024 * 1024));
      tryWrite(path.join(dirs.memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryMb * 1024 * 1024));
    }
    if (dirs.pids) tryWrite(path.join(dirs.pids, 'pids.max'), String(limits.pidsMax));
    if (dirs.cpu && limits.background) tryWrite(path.join(dirs.cpu, WEIGHT[1].file), WEIGHT[1].low);
    return new CgroupHandle(1, dirs);
  }
}

/** One sandbox's group: join, freeze, kill, measure, remove. */
export class CgroupHandle {
  constructor(
    readonly version: 1 | 2,
    /** controller → directory (v2: { unified }). */
    readonly dirs: Record<string, string>,
  ) {}

  /** Files a process writes its pid into to join the group (all hierarchies). */
  get procsFiles(): string[] {
    return [...new Set(Object.values(this.dirs))].map((d) => path.join(d, 'cgroup.procs'));
  }

  /** The CPU weight the group had, 'low' while started with `background`. */
  async weight(): Promise<'low' | 'normal' | undefined> {
    const w = WEIGHT[this.version];
    const dir = this.version === 2 ? this.dirs.unified : this.dirs.cpu;
    if (!dir) return undefined;
    const v = (await readFile(path.join(dir, w.file), 'utf8').catch(() => '')).trim();
    return v === w.low ? 'low' : v === w.normal ? 'normal' : undefined;
  }

  /** Back to the default CPU weight. */
  async foreground(): Promise<void> {
    const w = WEIGHT[this.version];
    const dir = this.version === 2 ? this.dirs.unified : this.dirs.cpu;
    if (dir) await writeFile(path.join(dir, w.file), w.normal).catch(() => undefined);
  }

  private get mainDir(): string {
    return this.dirs.unified ?? this.dirs.freezer ?? this.dirs.memory ?? Object.values(this.dirs)[0]!;
  }

  pids(): number[] {
    const pids = new Set<number>();
    for (const file of this.procsFiles) {
      try {
        for (const p of parsePids(readFileSync(file, 'utf8'))) pids.add(p);
      } catch {
        // group already gone
      }
    }
    return [...pids];
  }

  async freeze(): Promise<void> {
    if (this.version === 2) {
      await writeFile(path.join(this.dirs.unified!, 'cgroup.freeze'), '1');
      for (let i = 0; i < 500; i++) {
        const events = parseKeyValues(await readFile(path.join(this.dirs.unified!, 'cgroup.events'), 'utf8'));
        if (events.frozen === 1) return;
        await sleep(2);
      }
      throw new Error('cgroup did not freeze');
    }
    if (!this.dirs.freezer) throw new Error('freezer cgroup controller is not mounted');
    const state = path.join(this.dirs.freezer, 'freezer.state');
    await writeFile(state, 'FROZEN');
    for (let i = 0; i < 500; i++) {
      if ((await readFile(state, 'utf8')).trim() === 'FROZEN') return;
      await sleep(2);
    }
    throw new Error('cgroup did not freeze');
  }

  async thaw(): Promise<void> {
    if (this.version === 2) await writeFile(path.join(this.dirs.unified!, 'cgroup.freeze'), '0');
    else if (this.dirs.freezer) await writeFile(path.join(this.dirs.freezer, 'freezer.state'), 'THAWED');
  }

  thawSync(): void {
    if (this.version === 2) tryWrite(path.join(this.dirs.unified!, 'cgroup.freeze'), '0');
    else if (this.dirs.freezer) tryWrite(path.join(this.dirs.freezer, 'freezer.state'), 'THAWED');
  }

  async frozen(): Promise<boolean> {
    try {
      if (this.version === 2)
        return parseKeyValues(await readFile(path.join(this.dirs.unified!, 'cgroup.events'), 'utf8')).frozen === 1;
      if (!this.dirs.freezer) return false;
      return (await readFile(path.join(this.dirs.freezer, 'freezer.state'), 'utf8')).trim() !== 'THAWED';
    } catch {
      return false;
    }
  }

  /** SIGKILL every process in the group (frozen first so nothing forks meanwhile), then wait until empty. */
  killSync(timeoutMs = 5000): boolean {
    if (this.version === 2) {
      tryWrite(path.join(this.dirs.unified!, 'cgroup.kill'), '1');
    } else {
      const state = this.dirs.freezer ? path.join(this.dirs.freezer, 'freezer.state') : undefined;
      if (state) {
        tryWrite(state, 'FROZEN');
        for (let i = 0; i < 200; i++) {
          try {
            if (readFileSync(state, 'utf8').trim() === 'FROZEN') break;
          } catch {
            break;
          }
          sleepSync(1);
        }
      }
      sigkillAll(this.pids());
      if (state) tryWrite(state, 'THAWED');
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const left = this.pids();
      if (left.length === 0) return true;
      sigkillAll(left);
      sleepSync(2);
    }
    return this.pids().length === 0;
  }

  async kill(timeoutMs = 5000): Promise<boolean> {
    if (this.version === 2) {
      tryWrite(path.join(this.dirs.unified!, 'cgroup.kill'), '1');
    } else {
      if (this.dirs.freezer) await this.freeze().catch(() => undefined);
      sigkillAll(this.pids());
      await this.thaw().catch(() => undefined);
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const left = this.pids();
      if (left.length === 0) return true;
      sigkillAll(left);
      await sleep(3);
    }
    return false;
  }

  async remove(): Promise<void> {
    for (const dir of new Set(Object.values(this.dirs))) {
      for (let i = 0; i < 100; i++) {
        try {
          await rmdir(dir);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
          if (i === 99) throw err;
          await sleep(5);
        }
      }
    }
  }

  removeSync(): void {
    for (const dir of new Set(Object.values(this.dirs))) {
      for (let i = 0; i < 100; i++) {
        try {
          rmdirSync(dir);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
          sleepSync(5);
        }
      }
    }
  }

  async stats(): Promise<CgroupStats> {
    const read = async (dir: string | undefined, file: string) => {
      if (!dir) return '';
      try {
        return await readFile(path.join(dir, file), 'utf8');
      } catch {
        return '';
      }
    };
    if (this.version === 2) {
      const d = this.dirs.unified!;
      const cpu = parseKeyValues(await read(d, 'cpu.stat'));
      const mem = parseKeyValues(await read(d, 'memory.stat'));
      const events = parseKeyValues(await read(d, 'memory.events'));
      return {
        cpuUsageUsec: cpu.usage_usec ?? 0,
        memoryBytes: Number((await read(d, 'memory.current')).trim() || 0),
        memoryCacheBytes: mem.file ?? 0,
        memoryLimitBytes: parseLimit(await read(d, 'memory.max')),
        oomKills: events.oom_kill ?? 0,
        pids: parsePids(await read(d, 'cgroup.procs')).length,
      };
    }
    const mem = parseKeyValues(await read(this.dirs.memory, 'memory.stat'));
    const oom = parseKeyValues(await read(this.dirs.memory, 'memory.oom_control'));
    return {
      cpuUsageUsec: Math.round(Number((await read(this.dirs.cpuacct, 'cpuacct.usage')).trim() || 0) / 1000),
      memoryBytes: Number((await read(this.dirs.memory, 'memory.usage_in_bytes')).trim() || 0),
      memoryCacheBytes: mem.total_cache ?? mem.cache ?? 0,
      memoryLimitBytes: parseLimit(await read(this.dirs.memory, 'memory.limit_in_bytes')),
      oomKills: oom.oom_kill ?? 0,
      pids: parsePids(await read(this.mainDir, 'cgroup.procs')).length,
    };
  }
}

/** Remove this runtime's parent groups (they must be empty); shared ancestors are left alone. */
export function removeParentSync(cgroups: Cgroups): void {
  for (const dir of cgroups.parentDirs()) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty (a sandbox still being removed) or already gone
    }
  }
}

/**
 * Removes the groups other runtimes left under the shared parent. A runtime's group is named after
 * its process (pid and start time, as its network objects are): the groups of a runtime that is no
 * longer running (SIGKILL, a crash) are removed with their sandbox groups, whose processes are
 * killed first. A live runtime's groups are never touched, not even a sandbox group that its first
 * process has not joined yet. Groups of other names are removed only when empty.
 */
export async function sweepDeadRuntimes(cgroups: Cgroups): Promise<number> {
  const shared = path.dirname(cgroups.parent);
  // Siblings of a group at the hierarchy's root are the system's, not runtimes'.
  if (shared === '.' || shared === '/') return 0;
  let removed = 0;
  for (const name of cgroups.children(shared)) {
    const group = path.join(shared, name);
    if (group === cgroups.parent) continue;
    const owner = parseOwnerName(name);
    if (owner && ownerAlive(owner)) continue;
    if (owner) {
      for (const sandbox of cgroups.children(group)) {
        const h = new CgroupHandle(cgroups.version, cgroups.dirsOf(path.join(group, sandbox)));
        await h.kill();
        await h.remove().catch(() => undefined);
      }
    }
    let gone = true;
    for (const dir of new Set(Object.values(cgroups.dirsOf(group)))) {
      try {
        await rmdir(dir);
      } catch (err) {
        // Not empty: a group of another name with sandboxes in it, not ours to judge.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') gone = false;
      }
    }
    if (gone) removed++;
  }
  return removed;
}

/** SIGKILL each pid; one that is already gone is what we wanted. */
function sigkillAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
