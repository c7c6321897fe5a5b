import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { unpackTo } from './archive.js';
import { pidAlive, withLock } from './lock.js';
import { defaultNodeDir } from './paths.js';
import { loadRecipe, type Recipe, type TemplateSpec } from './recipe.js';
import { Digest, openStore, type TemplateStore } from './store.js';

/*
 * The node cache: templates unpacked on this machine, used read-only as overlayfs lower layers.
 *
 * Layout, per artifact (templates sharing a rootfs share the artifact):
 *   <nodeDir>/<artifact>/.lock                 serialises unpack, lease, evict and GC (all processes)
 *   <nodeDir>/<artifact>/current               id of the version new sandboxes get
 *   <nodeDir>/<artifact>/<version>/rootfs/     an unpacked copy; never moved or changed once complete
 *   <nodeDir>/<artifact>/<version>/leases/<pid>-<n>   one per ensure() not yet released
 *
 * Eviction drops `current` (so the next ensure is cold and unpacks a fresh version) and deletes
 * only versions nobody leases; a leased version stays readable until its last lease is released,
 * then it is deleted. A lease of a dead process counts as released, so a crash never pins a
 * version for good. Leases are files, so this also holds across processes sharing the cache.
 */

export class TemplateNotFoundError extends Error {
  readonly code = 404;
  constructor(readonly template: string) {
    super(`template '${template}' not found`);
    this.name = 'TemplateNotFoundError';
  }
}

export class TemplateNotBuiltError extends Error {
  readonly code = 503;
  constructor(
    readonly template: string,
    readonly artifact: string,
    location: string,
  ) {
    super(`template '${template}' is not built (${artifact} missing in ${location}); run: e2b-bench template build`);
    this.name = 'TemplateNotBuiltError';
  }
}

export interface PhaseEvent {
  name: 'wait' | 'fetch' | 'unpack';
  /** Epoch milliseconds, for spans created after the fact. */
  startTime: number;
  endTime: number;
  seconds: number;
  template: string;
  artifact: string;
}

export interface EnsureOptions {
  signal?: AbortSignal;
  /** Called as each phase ends (fetch, unpack, and wait when another caller held the template). */
  onPhase?: (event: PhaseEvent) => void;
}

export interface EnsurePhases {
  fetch_seconds: number;
  unpack_seconds: number;
  /** Time spent waiting for another caller's unpack or eviction of the same artifact. */
  wait_seconds: number;
}

export interface EnsuredTemplate extends TemplateSpec {
  /** The template's root filesystem (read-only: mount it as an overlay lower layer). */
  rootfs: string;
  /** Overlay lowerdir layers, topmost first; `[rootfs]` except for derived templates with a parent. */
  layers: string[];
  /** Store artifact behind the rootfs (or `derived:<name>`). */
  artifact: string;
  /** True when this call fetched and unpacked the template. */
  cold: boolean;
  phases: EnsurePhases;
  /** Compressed bytes fetched from the store (0 when warm). */
  fetchedBytes: number;
  /** Ends this caller's use of the rootfs; call when the sandbox using it is gone. Idempotent. */
  release(): Promise<void>;
}

/** Spec of a template registered at run time (e.g. from a snapshot); missing fields come from the parent. */
export interface DerivedSpec {
  parent?: string;
  cpuCount?: number;
  memoryMb?: number;
  description?: string;
  user?: string;
  uid?: number;
  gid?: number;
  home?: string;
}

export interface TemplateProviderOptions {
  /** Template store: a TemplateStore, a directory, or undefined for the default directory. */
  store?: string | TemplateStore;
  /** Node cache directory (default: `<cache root>/node`). */
  nodeDir?: string;
  /** e2b-template/ directory (default: found from this module or `$E2BBENCH_TEMPLATE_DIR`). */
  recipeDir?: string;
  /** An already loaded recipe (tests). */
  recipe?: Recipe;
  /** Build the template when the store lacks it instead of failing (takes minutes). */
  autoBuild?: boolean;
}

interface Derived {
  rootfs: string;
  spec: DerivedSpec;
}

const VERSION_DIR = /^v[0-9a-z]+-[0-9a-f]+$/;
let leaseSeq = 0;

export class TemplateProvider {
  readonly store: TemplateStore;
  readonly nodeDir: string;
  private recipePromise: Promise<Recipe> | undefined;
  private readonly derived = new Map<string, Derived>();

  constructor(private readonly opts: TemplateProviderOptions = {}) {
    this.store = openStore(opts.store);
    this.nodeDir = opts.nodeDir ?? defaultNodeDir();
    if (opts.recipe) this.recipePromise = Promise.resolve(opts.recipe);
  }

  /** The recipe, read once; `reload()` reads it again (after a template rebuild). */
  recipe(): Promise<Recipe> {
    this.recipePromise ??= loadRecipe(this.opts.recipeDir);
    this.recipePromise.catch(() => (this.recipePromise = undefined));
    return this.recipePromise;
  }

  reload(): void {
    if (!this.opts.recipe) this.recipePromise = undefined;
  }

  async list(): Promise<TemplateSpec[]> {
    const recipe = await this.recipe();
    const derived = await Promise.all([...this.derived.keys()].map((n) => this.spec(n)));
    return [...recipe.templates, ...derived];
  }

  async defaultTemplate(): Promise<string> {
    return (await this.recipe()).file.default;
  }

  async spec(name: string): Promise<TemplateSpec> {
    const d = this.derived.get(name);
    if (d) {
      const parent = d.spec.parent ? await this.spec(d.spec.parent) : undefined;
      const pick = <K extends keyof DerivedSpec & keyof TemplateSpec>(k: K): TemplateSpec[K] => {
        const v = (d.spec[k] ?? parent?.[k]) as TemplateSpec[K] | undefined;
        if (v === undefined) throw new Error(`derived template '${name}' lacks ${k} and has no parent`);
        return v;
      };
      const description = d.spec.description ?? parent?.description;
      return {
        name,
        ...(description === undefined ? {} : { description }),
        cpuCount: pick('cpuCount'),
        memoryMb: pick('memoryMb'),
        user: pick('user'),
        uid: pick('uid'),
        gid: pick('gid'),
        home: pick('home'),
      };
    }
    const spec = (await this.recipe()).templates.find((t) => t.name === name);
    if (!spec) throw new TemplateNotFoundError(name);
    return spec;
  }

  /**
   * Registers a template whose root filesystem already exists on this node (a snapshot). With a
   * parent, `rootfsDir` is a layer over the parent's layers. Never evicted or deleted by this class.
   */
  registerDerived(name: string, rootfsDir: string, spec: DerivedSpec = {}): void {
    if (spec.parent === name) throw new Error(`derived template '${name}' cannot be its own parent`);
    this.derived.set(name, { rootfs: rootfsDir, spec });
  }

  unregisterDerived(name: string): boolean {
    return this.derived.delete(name);
  }

  /** Whether the store holds the built rootfs of the current recipe (an ensure can succeed). */
  async isBuilt(): Promise<boolean> {
    try {
      return await this.store.has(`${(await this.recipe()).rootfsKey}.tar.zst`);
    } catch {
      return false;
    }
  }

  /** Whether the template is unpacked on this node (an ensure now would be warm). */
  async isCached(name: string): Promise<boolean> {
    const d = this.derived.get(name);
    if (d) return d.spec.parent ? this.isCached(d.spec.parent) : true;
    await this.spec(name);
    const dir = this.artifactDir((await this.recipe()).rootfsKey);
    return (await this.currentVersion(dir)) !== undefined;
  }

  /** Makes the template's rootfs available on this node and leases it to the caller. */
  async ensure(name: string, opts: EnsureOptions = {}): Promise<EnsuredTemplate> {
    const d = this.derived.get(name);
    if (d) return this.ensureDerived(name, d, opts);
    const spec = await this.spec(name);
    const recipe = await this.recipe();
    const artifact = recipe.rootfsKey;
    const dir = this.artifactDir(artifact);
    const phases: EnsurePhases = { fetch_seconds: 0, unpack_seconds: 0, wait_seconds: 0 };
    let fetchedBytes = 0;
    const emit = (phase: PhaseEvent['name'], startTime: number, t0: number): number => {
      const seconds = (performance.now() - t0) / 1000;
      opts.onPhase?.({ name: phase, startTime, endTime: Date.now(), seconds, template: name, artifact });
      return seconds;
    };

    const waitStart = Date.now();
    const waitT0 = performance.now();
    let waited = false;
    const { version, cold, leasePath } = await withLock(
      join(dir, '.lock'),
      async () => {
        if (waited) phases.wait_seconds = emit('wait', waitStart, waitT0);
        let version = await this.currentVersion(dir);
        const cold = version === undefined;
        if (version === undefined) {
          const unpacked = await this.unpackVersion(name, artifact, dir, opts, phases, emit);
          version = unpacked.version;
          fetchedBytes = unpacked.bytes;
        }
        // The lease is taken under the lock, so a concurrent evict cannot delete this version.
        const leasePath = await this.lease(dir, version);
        return { version, cold, leasePath };
      },
      { ...(opts.signal ? { signal: opts.signal } : {}), onWait: () => (waited = true) },
    );
    // A cold start is rare and slow anyway: a good moment to drop copies nobody needs any more.
    if (cold) await this.gc();

    let released = false;
    const rootfs = join(dir, version, 'rootfs');
    return {
      ...spec,
      rootfs,
      layers: [rootfs],
      artifact,
      cold,
      phases,
      fetchedBytes,
      release: async () => {
        if (released) return;
        released = true;
        await unlink(leasePath).catch(() => undefined);
        await this.collect(dir);
      },
    };
  }

  /**
   * Drops the unpacked copy of a template (all templates sharing its rootfs), or of every
   * template when no name is given: the next ensure is cold. Rootfs copies still leased stay
   * readable until released. Returns the artifacts that were cached.
   */
  async evict(name?: string): Promise<string[]> {
    let artifacts: string[];
    if (name === undefined) {
      artifacts = await this.cachedArtifacts();
    } else {
      const d = this.derived.get(name);
      if (d) return d.spec.parent ? this.evict(d.spec.parent) : [];
      await this.spec(name);
      artifacts = [(await this.recipe()).rootfsKey];
    }
    const evicted: string[] = [];
    for (const artifact of artifacts) {
      const dir = this.artifactDir(artifact);
      const had = await withLock(join(dir, '.lock'), async () => {
        const had = (await this.currentVersion(dir)) !== undefined;
        await rm(join(dir, 'current'), { force: true });
        return had;
      });
      await this.collect(dir);
      if (had) evicted.push(artifact);
    }
    return evicted;
  }

  /**
   * Deletes what nobody needs: versions that are not current and not leased, leftovers of
   * crashed unpacks, and whole artifacts of older recipes that nobody leases.
   */
  async gc(): Promise<void> {
    const recipe = await this.recipe().catch(() => undefined);
    for (const artifact of await this.cachedArtifacts(true)) {
      const dir = this.artifactDir(artifact);
      if (recipe && artifact !== recipe.rootfsKey) {
        await withLock(join(dir, '.lock'), () => rm(join(dir, 'current'), { force: true }));
      }
      await this.collect(dir);
    }
  }

  private artifactDir(artifact: string): string {
    return join(this.nodeDir, artifact);
  }

  private async cachedArtifacts(all = false): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.nodeDir);
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const n of names) {
      if (n.startsWith('.')) continue;
      if (all || (await this.currentVersion(this.artifactDir(n))) !== undefined) out.push(n);
    }
    return out;
  }

  private async currentVersion(dir: string): Promise<string | undefined> {
    try {
      const version = (await readFile(join(dir, 'current'), 'utf8')).trim();
      if (!VERSION_DIR.test(version)) return undefined;
      await stat(join(dir, version, 'complete'));
      return version;
    } catch {
      return undefined;
    }
  }

  private async unpackVersion(
    name: string,
    artifact: string,
    dir: string,
    opts: EnsureOptions,
    phases: EnsurePhases,
    emit: (phase: PhaseEvent['name'], startTime: number, t0: number) => number,
  ): Promise<{ version: string; bytes: number }> {
    const object = `${artifact}.tar.zst`;
    if (!(await this.store.has(object))) {
      if (!this.opts.autoBuild) throw new TemplateNotBuiltError(name, object, this.store.location);
      const { buildTemplates } = await import('./build.js');
      await buildTemplates({
        store: this.store,
        ...(this.opts.recipeDir ? { recipeDir: this.opts.recipeDir } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    }
    const version = `v${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const versionDir = join(dir, version);
    const download = join(dir, `.fetch-${version}.tar.zst`);
    await mkdir(join(versionDir, 'leases'), { recursive: true });
    try {
      // Fetch: copy the artifact next to the cache (for a remote store this is the download).
      let start = Date.now();
      let t0 = performance.now();
      const digest = new Digest();
      await pipeline(
        await this.store.get(object, opts.signal ? { signal: opts.signal } : {}),
        digest,
        createWriteStream(download),
        opts.signal ? { signal: opts.signal } : {},
      );
      phases.fetch_seconds = emit('fetch', start, t0);

      start = Date.now();
      t0 = performance.now();
      await unpackTo(download, join(versionDir, 'rootfs'), opts.signal ? { signal: opts.signal } : {});
      phases.unpack_seconds = emit('unpack', start, t0);

      await writeFile(
        join(versionDir, 'complete'),
        `${JSON.stringify({ artifact, bytes: digest.bytes, sha256: digest.hex(), unpacked_at: new Date().toISOString() })}\n`,
      );
      const tmp = join(dir, `.current-${version}`);
      await writeFile(tmp, `${version}\n`);
      await rename(tmp, join(dir, 'current'));
      return { version, bytes: digest.bytes };
    } catch (err) {
      await rm(versionDir, { recursive: true, force: true });
      throw err;
    } finally {
      await rm(download, { force: true });
    }
  }

  private async lease(dir: string, version: string): Promise<string> {
    const path = join(dir, version, 'leases', `${process.pid}-${++leaseSeq}-${randomBytes(3).toString('hex')}`);
    await writeFile(path, '');
    return path;
  }

  /** Deletes unleased, non-current versions of one artifact (moved aside under the lock, removed after). */
  private async collect(dir: string): Promise<void> {
    let doomed: string[] = [];
    try {
      doomed = await withLock(join(dir, '.lock'), async () => {
        let entries: string[];
        try {
          entries = await readdir(dir);
        } catch {
          return [];
        }
        const current = await this.currentVersion(dir);
        const out: string[] = [];
        for (const e of entries) {
          const stale = e.startsWith('.fetch-') || e.startsWith('.current-') || e.startsWith('.trash-');
          if (e === current || (!stale && !VERSION_DIR.test(e))) continue;
          if (!stale && (await this.leased(join(dir, e)))) continue;
          const trash = stale ? join(dir, e) : join(dir, `.trash-${e}`);
          if (!stale) await rename(join(dir, e), trash);
          out.push(trash);
        }
        return out;
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const path of doomed) await rm(path, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Whether a version has a lease of a live process; leases of dead processes are removed. */
  private async leased(versionDir: string): Promise<boolean> {
    let leases: string[];
    try {
      leases = await readdir(join(versionDir, 'leases'));
    } catch {
      return false;
    }
    let live = false;
    for (const l of leases) {
      const pid = Number(l.split('-')[0]);
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) live = true;
      else await unlink(join(versionDir, 'leases', l)).catch(() => undefined);
    }
    return live;
  }

  private async ensureDerived(name: string, d: Derived, opts: EnsureOptions): Promise<EnsuredTemplate> {
    const spec = await this.spec(name);
    if (!d.spec.parent) {
      return {
        ...spec,
        rootfs: d.rootfs,
        layers: [d.rootfs],
        artifact: `derived:${name}`,
        cold: false,
        phases: { fetch_seconds: 0, unpack_seconds: 0, wait_seconds: 0 },
        fetchedBytes: 0,
        release: async () => undefined,
      };
    }
    const parent = await this.ensure(d.spec.parent, opts);
    return {
      ...parent,
      ...spec,
      rootfs: d.rootfs,
      layers: [d.rootfs, ...parent.layers],
      artifact: `derived:${name}`,
      release: parent.release,
    };
  }
}
