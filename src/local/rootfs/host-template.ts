import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PhaseRunner } from '../driver/types.js';
import { runPlain } from '../driver/types.js';
import type { ResolvedTemplate, TemplateProvider } from '../core/templates.js';

export interface HostTemplateSpec {
  name: string;
  cpuCount: number;
  memoryMb: number;
}

/**
 * Default development templates, named like the store's: `base` (the SDK's default name) and
 * smaller ones to compare limits, down to half a CPU of quota.
 */
export const HOST_TEMPLATES: HostTemplateSpec[] = [
  { name: 'base', cpuCount: 2, memoryMb: 512 },
  { name: 'small', cpuCount: 1, memoryMb: 256 },
  { name: 'half', cpuCount: 0.5, memoryMb: 256 },
];

/** /etc entries copied from the host so bash, the dynamic loader and name lookups work inside. */
const ETC_COPIES = [
  'profile',
  'profile.d',
  'bash.bashrc',
  'environment',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'nsswitch.conf',
  'host.conf',
  'hosts',
  'resolv.conf',
  'alternatives',
  'ssl',
  'localtime',
  'inputrc',
  'skel',
];

const PASSWD =
  'root:x:0:0:root:/root:/bin/bash\nuser:x:1000:1000:user:/home/user:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n';
const GROUP = 'root:x:0:\nsudo:x:27:user\nuser:x:1000:\nnogroup:x:65534:\n';

/**
 * Build a tiny rootfs from the host: own /etc, /home, /tmp, with the host's /usr bound read-only.
 * For development and tests on a machine without a built template; it isolates the same way but
 * its programs are the host's.
 */
export async function buildHostRootfs(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const d of [
    'usr',
    'etc',
    'root',
    'home/user',
    'tmp',
    'var/tmp',
    'var/log',
    'run',
    'proc',
    'dev',
    'sys',
    'opt',
    'mnt',
    'srv',
  ]) {
    await mkdir(path.join(dir, d), { recursive: true });
  }
  for (const [link, target] of [
    ['bin', 'usr/bin'],
    ['sbin', 'usr/sbin'],
    ['lib', 'usr/lib'],
    ['lib64', 'usr/lib64'],
  ] as const) {
    if (existsSync(path.join('/', target))) await symlink(target, path.join(dir, link));
  }
  for (const name of ETC_COPIES) {
    const src = path.join('/etc', name);
    if (existsSync(src)) await cp(src, path.join(dir, 'etc', name), { recursive: true, verbatimSymlinks: true });
  }
  await writeFile(path.join(dir, 'etc/passwd'), PASSWD);
  await writeFile(path.join(dir, 'etc/group'), GROUP);
  await writeFile(path.join(dir, 'etc/hostname'), 'e2b\n');
  await chmod(path.join(dir, 'tmp'), 0o1777);
  await chmod(path.join(dir, 'var/tmp'), 0o1777);
  await chmod(path.join(dir, 'root'), 0o700);
  await chown(path.join(dir, 'home/user'), 1000, 1000);
}

interface Generation {
  dir: string;
  refs: number;
  stale: boolean;
}

/**
 * Templates made from the host (see buildHostRootfs). Each template has its own cached copy;
 * eviction drops it (a copy still used by a sandbox is deleted when the last one goes), so the next
 * start pays the build again, like a cold start.
 */
export class HostTemplateProvider implements TemplateProvider {
  private current = new Map<string, Generation>();
  private building = new Map<string, Promise<Generation>>();
  private seq = 0;

  constructor(
    private readonly cacheDir: string,
    private readonly specs: HostTemplateSpec[] = HOST_TEMPLATES,
  ) {}

  async names(): Promise<string[]> {
    return this.specs.map((s) => s.name);
  }

  async cached(name: string): Promise<boolean> {
    return this.current.has(name);
  }

  async ensure(name: string, phase: PhaseRunner = runPlain): Promise<ResolvedTemplate> {
    const spec = this.specs.find((s) => s.name === name);
    if (!spec) throw new Error(`unknown template '${name}'`);
    let gen = this.current.get(name);
    let cold = false;
    if (!gen) {
      cold = true;
      let pending = this.building.get(name);
      if (!pending) {
        const dir = path.join(this.cacheDir, `${name}-${++this.seq}`);
        pending = phase('unpack', () => buildHostRootfs(dir)).then(() => {
          const g = { dir, refs: 0, stale: false };
          this.current.set(name, g);
          return g;
        });
        pending.finally(() => this.building.delete(name)).catch(() => undefined);
        this.building.set(name, pending);
      }
      gen = await pending;
    }
    gen.refs++;
    let released = false;
    const g = gen;
    return {
      name,
      rootfs: g.dir,
      cpuCount: spec.cpuCount,
      memoryMb: spec.memoryMb,
      user: 'user',
      binds: [{ source: '/usr', target: '/usr', readOnly: true }],
      cold,
      release: () => {
        if (released) return;
        released = true;
        g.refs--;
        if (g.stale && g.refs === 0) void rm(g.dir, { recursive: true, force: true });
      },
    };
  }

  async evict(name?: string): Promise<void> {
    for (const n of name !== undefined ? [name] : [...this.current.keys()]) {
      const g = this.current.get(n);
      if (!g) continue;
      this.current.delete(n);
      g.stale = true;
      if (g.refs === 0) await rm(g.dir, { recursive: true, force: true });
    }
  }

  /** Remove every cached copy (runtime shutdown). */
  async clear(): Promise<void> {
    for (const g of this.current.values()) await rm(g.dir, { recursive: true, force: true });
    this.current.clear();
  }
}
