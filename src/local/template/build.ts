import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { findMirror, type Mirror } from './apt-sources.js';
import { unpackTo } from './archive.js';
import { extractImage, IMAGE_EXT, IMAGE_FORMAT, missingImageTools, packImage } from './image.js';
import { withLock } from './lock.js';
import { defaultBuildDir } from './paths.js';
import { run, which } from './proc.js';
import { BUILD_VERSION, loadRecipe, type Recipe } from './recipe.js';
import { getJson, openStore, putJson, type TemplateStore } from './store.js';

/** Where the final rootfs records what it is built from (probes read tool versions here). */
export const TEMPLATE_INFO_PATH = '/etc/e2b-bench/template.json';

export interface StageContext {
  recipe: Recipe;
  /** Empty directory to fill with the root filesystem. */
  rootfs: string;
  log: (line: string) => void;
  signal?: AbortSignal;
}

/** Produces the Debian stage of the rootfs; returns package name → version. */
export type StageBuilder = (
  ctx: StageContext,
) => Promise<{ packageVersions: Record<string, string>; mirror?: string; phases?: Record<string, number> }>;

export interface BuildOptions {
  /** Rebuild even if the store already holds an artifact for this recipe. */
  force?: boolean;
  store?: string | TemplateStore;
  recipeDir?: string;
  /** Scratch space and the build lock (default: `<cache root>/build`). */
  buildDir?: string;
  signal?: AbortSignal;
  /** Progress lines (debootstrap and apt output included). */
  log?: (line: string) => void;
  /** Replaces debootstrap + apt (tests); the default is `debianStage`. */
  stage?: StageBuilder;
  /** After a build, keep this many rootfs artifacts in the store, newest first (default 2). */
  keep?: number;
}

export interface ArtifactManifest {
  object: string;
  key: string;
  /** `base` only in stores written before images: the Debian stage kept as an archive of its own. */
  kind: 'base' | 'rootfs';
  /** Absent in manifests written before images, whose object is a tar.zst. */
  format?: typeof IMAGE_FORMAT | 'tar.zst';
  base_key: string;
  bytes: number;
  sha256: string;
  uncompressed_bytes: number;
  built_at: string;
  /** Seconds of the build that produced this artifact, by phase. */
  phases: Record<string, number>;
  build_seconds: number;
  recipe: {
    build_version: number;
    suite: string;
    variant: string;
    arch: string;
    packages: string[];
    user: Recipe['file']['recipe']['user'];
    bench_path: string;
    bench_files: number;
  };
  templates: Record<string, { cpu_count: number; memory_mb: number }>;
  mirror?: string;
  package_versions: Record<string, string>;
}

export interface BuildResult {
  /** False when the store already had the artifact (nothing was built). */
  built: boolean;
  /** Store object of the rootfs shared by all templates, e.g. `rootfs-<hash>.squashfs`. */
  artifact: string;
  key: string;
  store: string;
  templates: string[];
  bytes: number;
  /** Wall time of this call. */
  seconds: number;
  manifest: ArtifactManifest;
}

const PROXY_VARS = ['http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY'];

/**
 * Builds the local template's rootfs once per recipe and stores it as one image,
 * `rootfs-<hash>.squashfs` (+ `.json` manifest). Idempotent: returns at once when the store has it (unless `force`);
 * one build at a time per build directory (lock file), and a caller that waited for another's
 * build of the same recipe gets that build's result.
 */
export async function buildTemplates(opts: BuildOptions = {}): Promise<BuildResult> {
  const t0 = performance.now();
  const callStart = Date.now();
  const log = opts.log ?? (() => undefined);
  const store = openStore(opts.store);
  const recipe = await loadRecipe(opts.recipeDir);
  const object = `${recipe.rootfsKey}${IMAGE_EXT}`;

  const existing = async (): Promise<BuildResult | undefined> => {
    if (!(await store.has(object))) return undefined;
    const manifest = await getJson<ArtifactManifest>(store, `${recipe.rootfsKey}.json`);
    if (manifest?.object !== object) return undefined;
    if (opts.force && Date.parse(manifest.built_at) < callStart) return undefined;
    return result(false, manifest);
  };
  const result = (built: boolean, manifest: ArtifactManifest): BuildResult => ({
    built,
    artifact: object,
    key: recipe.rootfsKey,
    store: store.location,
    templates: recipe.templates.map((t) => t.name),
    bytes: manifest.bytes,
    seconds: (performance.now() - t0) / 1000,
    manifest,
  });

  if (!opts.force) {
    const hit = await existing();
    if (hit) return hit;
  }
  const stage = opts.stage ?? debianStage;
  const missing = await missingImageTools();
  if (missing.length)
    throw new Error(`building the local template needs: ${missing.join(', ')} (apt-get install squashfs-tools)`);

  const buildDir = opts.buildDir ?? defaultBuildDir();
  return withLock(
    join(buildDir, 'build.lock'),
    async () => {
      // Someone else may have built it while we waited.
      const hit = await existing();
      if (hit) return hit;
      const work = join(buildDir, `work-${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        const manifest = await buildInto(work, recipe, store, stage, opts, log, t0);
        const pruned = await pruneStore(store, { keep: opts.keep ?? 2, protect: [recipe.baseKey, recipe.rootfsKey] });
        if (pruned.length) log(`[template] pruned older artifacts: ${pruned.join(', ')}`);
        return result(true, manifest);
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    },
    {
      ...(opts.signal ? { signal: opts.signal } : {}),
      onWait: (h) => log(`waiting for the build lock (held by ${h})`),
    },
  );
}

async function buildInto(
  work: string,
  recipe: Recipe,
  store: TemplateStore,
  stage: StageBuilder,
  opts: BuildOptions,
  log: (line: string) => void,
  t0: number,
): Promise<ArtifactManifest> {
  const rootfs = join(work, 'rootfs');
  await mkdir(rootfs, { recursive: true });
  const phases: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const s = performance.now();
    log(`[template] ${name}...`);
    const v = await fn();
    phases[`${name}_seconds`] = round((performance.now() - s) / 1000);
    log(`[template] ${name} done in ${phases[`${name}_seconds`]} s`);
    return v;
  };
  const sig = opts.signal ? { signal: opts.signal } : {};
  const r = recipe.file.recipe;
  const recipeInfo = {
    build_version: BUILD_VERSION,
    suite: r.suite,
    variant: r.variant,
    arch: recipe.arch,
    packages: recipe.packages,
    user: r.user,
    bench_path: r.bench.path,
    bench_files: recipe.benchFiles.length,
  };
  const templates = Object.fromEntries(
    recipe.templates.map((t) => [t.name, { cpu_count: t.cpuCount, memory_mb: t.memoryMb }]),
  );

  // Stage 1, the Debian system: taken from a stored artifact of the same Debian stage unless
  // forced (a bench-only change then costs seconds), else debootstrap + packages.
  const from = opts.force ? undefined : await findBase(store, recipe);
  let base: Pick<ArtifactManifest, 'package_versions' | 'mirror'>;
  if (from) {
    await timed('unpack_base', async () => {
      if (from.format === IMAGE_FORMAT) {
        const image = join(work, `base${IMAGE_EXT}`);
        await store.download(from.object, image, sig);
        await extractImage(image, rootfs, sig);
        await rm(image, { force: true });
      } else {
        await unpackTo(await store.get(from.object, sig), rootfs, sig);
      }
      // What the previous final stage added goes; stage 2 writes it again.
      await rm(join(rootfs, from.recipe.bench_path), { recursive: true, force: true });
      await rm(join(rootfs, TEMPLATE_INFO_PATH), { force: true });
    });
    log(`[template] Debian stage from ${from.object}`);
    base = { package_versions: from.package_versions, ...(from.mirror ? { mirror: from.mirror } : {}) };
  } else {
    const s = performance.now();
    const { packageVersions, mirror, phases: stagePhases } = await stage({ recipe, rootfs, log, ...sig });
    Object.assign(phases, stagePhases ?? {}, { stage_seconds: round((performance.now() - s) / 1000) });
    await finalizeBase(rootfs);
    base = { package_versions: packageVersions, ...(mirror ? { mirror } : {}) };
  }

  // Stage 2: bench scripts and the template info file.
  await timed('bench', async () => {
    for (const f of recipe.benchFiles) {
      const dest = join(rootfs, r.bench.path, f.path);
      await mkdir(dirname(dest), { recursive: true });
      await copyFile(join(recipe.dir, r.bench.source, f.path), dest);
      await chmod(dest, f.mode & 0o111 ? 0o755 : 0o644);
    }
    const info = join(rootfs, TEMPLATE_INFO_PATH);
    await mkdir(dirname(info), { recursive: true });
    await writeFile(
      info,
      `${JSON.stringify({ key: recipe.rootfsKey, base_key: recipe.baseKey, built_at: new Date().toISOString(), recipe: recipeInfo, package_versions: base.package_versions }, null, 2)}\n`,
    );
  });
  const object = `${recipe.rootfsKey}${IMAGE_EXT}`;
  const image = join(work, `rootfs${IMAGE_EXT}`);
  const packed = await timed('pack', async () => {
    await packImage(rootfs, image, sig);
    return store.put(object, createReadStream(image), sig);
  });
  const manifest: ArtifactManifest = {
    object,
    key: recipe.rootfsKey,
    kind: 'rootfs',
    format: IMAGE_FORMAT,
    base_key: recipe.baseKey,
    bytes: packed.bytes,
    sha256: packed.sha256,
    uncompressed_bytes: await duBytes(rootfs),
    built_at: new Date().toISOString(),
    phases,
    build_seconds: round((performance.now() - t0) / 1000),
    recipe: recipeInfo,
    templates,
    ...(base.mirror ? { mirror: base.mirror } : {}),
    package_versions: base.package_versions,
  };
  await putJson(store, `${recipe.rootfsKey}.json`, manifest);
  log(`[template] ${object}: ${(packed.bytes / 1e6).toFixed(1)} MB in ${manifest.build_seconds} s`);
  return manifest;
}

/**
 * A stored artifact holding this recipe's Debian stage: an image of the same Debian stage first,
 * then the archives stores kept before images (a final rootfs, or the Debian stage itself), so a
 * store written by an older version is converted in seconds instead of rebuilt.
 */
async function findBase(store: TemplateStore, recipe: Recipe): Promise<ArtifactManifest | undefined> {
  const found: ArtifactManifest[] = [];
  for (const name of await store.list()) {
    if (!/^(base|rootfs)-[0-9a-f]{16}\.json$/.test(name)) continue;
    const m = await getJson<ArtifactManifest>(store, name).catch(() => undefined);
    if (m?.base_key === recipe.baseKey && m.object && (await store.has(m.object))) found.push(m);
  }
  // (base_key covers the build procedure's version, so every match holds the same Debian files.)
  const rank = (m: ArtifactManifest): number => (m.format === IMAGE_FORMAT ? 0 : 2) + (m.kind === 'rootfs' ? 0 : 1);
  return found.sort((a, b) => rank(a) - rank(b))[0];
}

/**
 * The default stage: `debootstrap --variant=<variant> <suite>` from the machine's own Debian
 * mirror, then e2b-template's setup script inside the new root under bubblewrap (packages, the
 * user account, cleanup). Mounts made for it vanish with bubblewrap's mount namespace.
 */
export const debianStage: StageBuilder = async ({ recipe, rootfs, log, signal }) => {
  await checkDebianHost();
  const r = recipe.file.recipe;
  const mirror: Mirror = await findMirror(r.suite);
  const sig = signal ? { signal } : {};
  const env = { ...process.env, LC_ALL: 'C', PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` };
  log(`[template] debootstrap ${r.variant} ${r.suite} (${recipe.arch}) from ${mirror.uri}`);
  let s = performance.now();
  await run(
    'debootstrap',
    [
      `--variant=${r.variant}`,
      `--arch=${recipe.arch}`,
      '--components=main',
      ...(mirror.keyring ? [`--keyring=${mirror.keyring}`] : []),
      r.suite,
      rootfs,
      mirror.uri,
    ],
    { env, onLine: log, ...sig },
  );
  const debootstrapSeconds = round((performance.now() - s) / 1000);
  log(`[template] debootstrap done in ${debootstrapSeconds} s`);

  // The setup script and package list go into the new root's /tmp (excluded from the archive).
  const inside = join(rootfs, 'tmp', 'e2b-template');
  await mkdir(inside, { recursive: true });
  await writeFile(join(inside, 'packages.txt'), `${recipe.packages.join('\n')}\n`);
  await writeFile(join(inside, 'rootfs-setup.sh'), recipe.setupScript);
  // A copy, never a bind or a symlink: the resolver config may be a symlink into the host's /run.
  await rm(join(rootfs, 'etc', 'resolv.conf'), { force: true });
  await writeFile(join(rootfs, 'etc', 'resolv.conf'), await readFile('/etc/resolv.conf'));

  const setenv = (k: string, v: string): string[] => ['--setenv', k, v];
  const proxies = PROXY_VARS.flatMap((k) => (process.env[k] ? setenv(k, process.env[k]!) : []));
  s = performance.now();
  log('[template] installing packages and the user account');
  await run(
    'bwrap',
    [
      '--bind',
      rootfs,
      '/',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--die-with-parent',
      '--clearenv',
      ...setenv('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'),
      ...setenv('HOME', '/root'),
      ...setenv('E2B_USER', r.user.name),
      ...setenv('E2B_UID', String(r.user.uid)),
      ...setenv('E2B_GID', String(r.user.gid)),
      ...setenv('E2B_HOME', r.user.home),
      ...setenv('E2B_SHELL', r.user.shell),
      ...proxies,
      '--',
      '/bin/sh',
      '/tmp/e2b-template/rootfs-setup.sh',
    ],
    { onLine: log, ...sig },
  );
  const setupSeconds = round((performance.now() - s) / 1000);
  log(`[template] setup done in ${setupSeconds} s`);
  await rm(inside, { recursive: true, force: true });

  const versions = await run(
    'dpkg-query',
    [`--admindir=${join(rootfs, 'var', 'lib', 'dpkg')}`, '-W', '-f', '${Package}\t${Version}\n', ...recipe.packages],
    sig,
  );
  return {
    packageVersions: parseDpkgQuery(versions),
    mirror: mirror.uri,
    phases: { debootstrap_seconds: debootstrapSeconds, setup_seconds: setupSeconds },
  };
};

/**
 * Deletes artifacts of older recipes from the store: the newest `keep` rootfs artifacts by build
 * time stay, and so does everything in `protect` (the current recipe's keys: a checkout of an
 * older version sharing the store may still read its archives). Debian-stage archives of stores
 * written before images are kept only when protected. Returns the deleted keys.
 * Nodes that already unpacked a deleted artifact keep their copy; a fetch in progress from a
 * directory store finishes (the open file outlives its name).
 */
export async function pruneStore(store: TemplateStore, opts: { keep: number; protect?: string[] }): Promise<string[]> {
  const keys = (await store.list())
    .filter((n) => /^(base|rootfs)-[0-9a-f]{16}\.json$/.test(n))
    .map((n) => n.slice(0, -'.json'.length));
  const deleted: string[] = [];
  for (const kind of ['base', 'rootfs']) {
    const dated = await Promise.all(
      keys
        .filter((k) => k.startsWith(`${kind}-`))
        .map(async (k) => ({
          k,
          at: Date.parse((await getJson<ArtifactManifest>(store, `${k}.json`))?.built_at ?? '') || 0,
        })),
    );
    dated.sort((a, b) => b.at - a.at);
    for (const { k } of dated.slice(kind === 'rootfs' ? opts.keep : 0)) {
      if (opts.protect?.includes(k)) continue;
      await store.delete(`${k}.json`);
      await store.delete(`${k}.tar.zst`);
      await store.delete(`${k}${IMAGE_EXT}`);
      deleted.push(k);
    }
  }
  return deleted;
}

/** `dpkg-query -W -f '${Package}\t${Version}\n'` output → name → version. */
export function parseDpkgQuery(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [name, version] = line.split('\t');
    if (name && version) out[name.trim()] = version.trim();
  }
  return out;
}

/** Build-host leftovers out: the sandbox runtime provides name resolution and the hostname. */
async function finalizeBase(rootfs: string): Promise<void> {
  await rm(join(rootfs, 'etc', 'resolv.conf'), { force: true });
  await writeFile(join(rootfs, 'etc', 'resolv.conf'), '');
  await writeFile(join(rootfs, 'etc', 'hostname'), 'e2b\n');
  await writeFile(
    join(rootfs, 'etc', 'hosts'),
    '127.0.0.1\tlocalhost e2b\n::1\tlocalhost ip6-localhost ip6-loopback\n',
  );
}

async function checkDebianHost(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('building the local template needs root (debootstrap, chroot setup)');
  const missing: string[] = [];
  for (const tool of ['debootstrap', 'bwrap', 'tar', 'zstd', 'dpkg-query'])
    if (!(await which(tool))) missing.push(tool);
  if (missing.length)
    throw new Error(`building the local template needs: ${missing.join(', ')} (apt-get install ${missing.join(' ')})`);
}

async function duBytes(dir: string): Promise<number> {
  const out = await run('du', ['-sb', '--exclude=./dev', '--exclude=./proc', '--exclude=./sys', dir]);
  return Number(out.split(/\s/)[0]) || 0;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
