import { randomBytes } from 'node:crypto';
import { readdirSync, unlinkSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isMounted, unmount, unmountSync } from '../driver/overlay.js';
import { extractImage, IMAGE_EXT, mountImage, type RootfsPath } from './image.js';
import { pidAlive, withLock } from './lock.js';
import { defaultNodeDir } from './paths.js';
import { loadRecipe, type Recipe, type TemplateSpec } from './recipe.js';
import { openStore, type TemplateStore } from './store.js';

/*
 * The node cache: template images fetched to this machine and mounted read-only, used as
 * overlayfs lower layers.
 *
 * Layout, per artifact (templates sharing a rootfs share the artifact):
 *   <nodeDir>/<artifact>.squashfs/.lock        serialises fetch, mount, lease, evict and GC (all processes)
 *   <nodeDir>/<artifact>.squashfs/current      id of the version new sandboxes get
 *   <nodeDir>/<artifact>.squashfs/<version>/image.squashfs   the fetched image
 *   <nodeDir>/<artifact>.squashfs/<version>/rootfs/          its read-only mount (or, without
 *                                               loop devices, the image extracted; then no image)
 *   <nodeDir>/<artifact>.squashfs/<version>/leases/<pid>-<n> one per ensure() not yet released
 *
 * A version's image is mounted while someone leases it: the first ensure mounts it, the last
 * release unmounts it (and the kernel frees its loop device), so an idle node holds no mount.
 * Eviction drops `current` (so the next ensure is cold and fetches a fresh version) and deletes
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
  /** `mount`: a cached image mounted again (its last user had released it); not a cold start. */
  name: 'wait' | 'fetch' | 'unpack' | 'mount';
  /** Epoch milliseconds, for spans created after the fact. */
  startTime: number;
  endTime: number;
  seconds: number;
  template: string;
  artifact: string;
  /** unpack and mount: how the image became the rootfs directory. */
  path?: RootfsPath;
}

export interface EnsureOptions {
  signal?: AbortSignal;
  /** Called as each phase ends (fetch, unpack, mount, and wait when another caller held the template). */
  onPhase?: (event: PhaseEvent) => void;
}

export interface EnsurePhases {
  fetch_seconds: number;
  /** Mount (or, without loop devices, extraction) of a fetched image. */
  unpack_seconds: number;
  /** Mount of a cached image nobody was using. */
  mount_seconds: number;
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
  /** How the rootfs is served: the image mounted read-only, or extracted into a directory. */
  rootfsPath: RootfsPath;
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

export interface NodeTemplateCacheOptions {
  /** Template store: a TemplateStore, a directory, or undefined for the default directory. */
  store?: string | TemplateStore;
  /** Node cache directory (default: `<cache root>/node`). */
  nodeDir?: string;
  /** e2b-template/ directory (default: found from this module or `$E2BBENCH_TEMPLATE_DIR`). */
  recipeDir?: string;
  /** Build scratch space and lock, for builds and conversions started here (default: `<cache root>/build`). */
  buildDir?: string;
  /** An already loaded recipe (tests). */
  recipe?: Recipe;
  /**
   * Build the template when the store lacks it instead of failing (takes minutes). A store holding
   * the recipe's rootfs in the archive format of older versions is converted regardless (seconds).
   */
  autoBuild?: boolean;
  /**
   * `auto` (default): mount the image, extracting it only when the mount fails (no loop devices);
   * `extract`: always extract, as a node without loop devices does.
   */
  rootfsPath?: 'auto' | 'extract';
}

interface Derived {
  rootfs: string;
  spec: DerivedSpec;
}

const VERSION_DIR = /^v[0-9a-z]+-[0-9a-f]+$/;
const IMAGE_FILE = `image${IMAGE_EXT}`;
let leaseSeq = 0;

interface Version {
  id: string;
  path: RootfsPath;
}

export class NodeTemplateCache {
  readonly store: TemplateStore;
  readonly nodeDir: string;
  private recipePromise: Promise<Recipe> | undefined;
  private readonly derived = new Map<string, Derived>();
  /** Leases this process holds: lease file → version directory (for releaseAllSync). */
  private readonly held = new Map<string, string>();

  constructor(private readonly opts: NodeTemplateCacheOptions = {}) {
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

  /**
   * Whether an ensure can succeed without a full build: the store holds the current recipe's
   * image, or its rootfs archive from before images (converted on first use).
   */
  async isBuilt(): Promise<boolean> {
    try {
      const key = (await this.recipe()).rootfsKey;
      return (await this.store.has(`${key}${IMAGE_EXT}`)) || (await this.store.has(`${key}.tar.zst`));
    } catch {
      return false;
    }
  }

  /** Whether the template's image is on this node (an ensure now would not be cold). */
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
    const phases: EnsurePhases = { fetch_seconds: 0, unpack_seconds: 0, mount_seconds: 0, wait_seconds: 0 };
    let fetchedBytes = 0;
    const emit = (phase: PhaseEvent['name'], startTime: number, t0: number, path?: RootfsPath): number => {
      const seconds = (performance.now() - t0) / 1000;
      opts.onPhase?.({
        name: phase,
        startTime,
        endTime: Date.now(),
        seconds,
        template: name,
        artifact,
        ...(path ? { path } : {}),
      });
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
          const fetched = await this.fetchVersion(name, artifact, dir, opts, phases, emit);
          version = fetched.version;
          fetchedBytes = fetched.bytes;
        } else if (version.path === 'mount' && !isMounted(join(dir, version.id, 'rootfs'))) {
          const start = Date.now();
          const t0 = performance.now();
          await mountImage(join(dir, version.id, IMAGE_FILE), join(dir, version.id, 'rootfs'));
          phases.mount_seconds = emit('mount', start, t0, 'mount');
        }
        // The lease is taken under the lock, so a concurrent evict or release cannot unmount or
        // delete this version.
        const leasePath = await this.lease(dir, version.id);
        return { version, cold, leasePath };
      },
      { ...(opts.signal ? { signal: opts.signal } : {}), onWait: () => (waited = true) },
    );
    // A cold start is rare and slow anyway: a good moment to drop copies nobody needs any more.
    if (cold) await this.gc();

    let released = false;
    const rootfs = join(dir, version.id, 'rootfs');
    return {
      ...spec,
      rootfs,
      layers: [rootfs],
      artifact,
      rootfsPath: version.path,
      cold,
      phases,
      fetchedBytes,
      release: async () => {
        if (released) return;
        released = true;
        this.held.delete(leasePath);
        await unlink(leasePath).catch(() => undefined);
        await this.collect(dir);
      },
    };
  }

  /**
   * Drops the fetched image of a template (all templates sharing its rootfs), or of every
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
   * crashed fetches, and whole artifacts of older recipes that nobody leases. The unpacked copy
   * that versions before images kept of the current recipe stays (an older checkout sharing this
   * cache may be using it).
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
    const names = await readdir(this.nodeDir).catch(() => [] as string[]);
    for (const n of names)
      if (/^rootfs-[0-9a-f]{16}$/.test(n) && n !== recipe?.rootfsKey) await this.collectLegacy(join(this.nodeDir, n));
  }

  /**
   * Synchronous, for exit paths: drops this process's leases and unmounts the images nobody
   * else leases, so no mount or loop device outlives the process.
   */
  releaseAllSync(): void {
    const dirs = new Set(this.held.values());
    for (const lease of this.held.keys()) {
      try {
        unlinkSync(lease);
      } catch {
        // already gone
      }
    }
    this.held.clear();
    for (const versionDir of dirs) if (!liveLeases(versionDir)) unmountSync(join(versionDir, 'rootfs'));
  }

  private artifactDir(artifact: string): string {
    return join(this.nodeDir, `${artifact}${IMAGE_EXT}`);
  }

  /** Artifact keys with a node directory (`all`) or with a current version. */
  private async cachedArtifacts(all = false): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.nodeDir);
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const n of names) {
      if (n.startsWith('.') || !n.endsWith(IMAGE_EXT)) continue;
      const artifact = n.slice(0, -IMAGE_EXT.length);
      if (all || (await this.currentVersion(this.artifactDir(artifact))) !== undefined) out.push(artifact);
    }
    return out;
  }

  private async currentVersion(dir: string): Promise<Version | undefined> {
    try {
      const id = (await readFile(join(dir, 'current'), 'utf8')).trim();
      if (!VERSION_DIR.test(id)) return undefined;
      return { id, path: await this.versionPath(join(dir, id)) };
    } catch {
      return undefined;
    }
  }

  /** How a complete version serves its rootfs; rejects when the version is not complete. */
  private async versionPath(versionDir: string): Promise<RootfsPath> {
    const info = JSON.parse(await readFile(join(versionDir, 'complete'), 'utf8')) as { path?: RootfsPath };
    return info.path === 'mount' ? 'mount' : 'extract';
  }

  /** Cold path: copy the image from the store, then mount it (or extract it without loop devices). */
  private async fetchVersion(
    name: string,
    artifact: string,
    dir: string,
    opts: EnsureOptions,
    phases: EnsurePhases,
    emit: (phase: PhaseEvent['name'], startTime: number, t0: number, path?: RootfsPath) => number,
  ): Promise<{ version: Version; bytes: number }> {
    const object = `${artifact}${IMAGE_EXT}`;
    const sig = opts.signal ? { signal: opts.signal } : {};
    if (!(await this.store.has(object))) {
      // A store written before images converts in seconds; a missing build takes minutes.
      if (!this.opts.autoBuild && !(await this.store.has(`${artifact}.tar.zst`)))
        throw new TemplateNotBuiltError(name, object, this.store.location);
      const { buildTemplates } = await import('./build.js');
      await buildTemplates({
        store: this.store,
        ...(this.opts.recipeDir ? { recipeDir: this.opts.recipeDir } : {}),
        ...(this.opts.buildDir ? { buildDir: this.opts.buildDir } : {}),
        ...sig,
      });
    }
    const id = `v${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const versionDir = join(dir, id);
    const image = join(versionDir, IMAGE_FILE);
    const rootfs = join(versionDir, 'rootfs');
    await mkdir(join(versionDir, 'leases'), { recursive: true });
    try {
      let start = Date.now();
      let t0 = performance.now();
      const bytes = await this.store.download(object, image, sig);
      phases.fetch_seconds = emit('fetch', start, t0);

      start = Date.now();
      t0 = performance.now();
      let path: RootfsPath = 'extract';
      if (this.opts.rootfsPath !== 'extract') {
        try {
          await mountImage(image, rootfs);
          path = 'mount';
        } catch {
          // No loop device here (a container without /dev/loop*, no privilege): extract instead.
        }
      }
      opts.signal?.throwIfAborted();
      if (path === 'extract') {
        await extractImage(image, rootfs, sig);
        await rm(image, { force: true });
      }
      phases.unpack_seconds = emit('unpack', start, t0, path);

      await writeFile(
        join(versionDir, 'complete'),
        `${JSON.stringify({ artifact, bytes, path, unpacked_at: new Date().toISOString() })}\n`,
      );
      const tmp = join(dir, `.current-${id}`);
      await writeFile(tmp, `${id}\n`);
      await rename(tmp, join(dir, 'current'));
      return { version: { id, path }, bytes };
    } catch (err) {
      await unmount(rootfs).catch(() => undefined);
      await rm(versionDir, { recursive: true, force: true });
      throw err;
    }
  }

  private async lease(dir: string, version: string): Promise<string> {
    const path = join(dir, version, 'leases', `${process.pid}-${++leaseSeq}-${randomBytes(3).toString('hex')}`);
    await writeFile(path, '');
    this.held.set(path, join(dir, version));
    return path;
  }

  /**
   * Under the artifact's lock: unmounts the current version when nobody leases it, and deletes
   * unleased non-current versions (unmounted, moved aside, removed after the lock).
   */
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
        const current = (await this.currentVersion(dir))?.id;
        const out: string[] = [];
        for (const e of entries) {
          const stale = e.startsWith('.fetch-') || e.startsWith('.current-') || e.startsWith('.trash-');
          if (!stale && !VERSION_DIR.test(e)) continue;
          if (!stale && liveLeases(join(dir, e))) continue;
          if (!stale) await unmount(join(dir, e, 'rootfs'));
          if (e === current) continue;
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

  /** The unpacked copies of an older recipe from before images: deleted when nobody leases them. */
  private async collectLegacy(dir: string): Promise<void> {
    const trash = join(this.nodeDir, `.trash-${randomBytes(4).toString('hex')}`);
    const moved = await withLock(join(dir, '.lock'), async () => {
      for (const e of await readdir(dir).catch(() => [] as string[]))
        if (VERSION_DIR.test(e) && liveLeases(join(dir, e))) return false;
      await rename(dir, trash);
      return true;
    }).catch(() => false);
    if (moved) await rm(trash, { recursive: true, force: true }).catch(() => undefined);
  }

  private async ensureDerived(name: string, d: Derived, opts: EnsureOptions): Promise<EnsuredTemplate> {
    const spec = await this.spec(name);
    if (!d.spec.parent) {
      return {
        ...spec,
        rootfs: d.rootfs,
        layers: [d.rootfs],
        artifact: `derived:${name}`,
        rootfsPath: 'extract',
        cold: false,
        phases: { fetch_seconds: 0, unpack_seconds: 0, mount_seconds: 0, wait_seconds: 0 },
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

/** Whether a version has a lease of a live process; leases of dead processes are removed. */
function liveLeases(versionDir: string): boolean {
  let leases: string[];
  try {
    leases = readdirSync(join(versionDir, 'leases'));
  } catch {
    return false;
  }
  let live = false;
  for (const l of leases) {
    const pid = Number(l.split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) live = true;
    else {
      try {
        unlinkSync(join(versionDir, 'leases', l));
      } catch {
        // gone meanwhile
      }
    }
  }
  return live;
}
