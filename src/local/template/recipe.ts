import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  findRecipeDir,
  listBenchFiles,
  parseTemplatesFile,
  type BenchFile,
  type TemplatesFile,
  type TemplateUser,
} from '../../template/recipe-file.js';

/**
 * Version of the build procedure (build.ts + archive.ts: debootstrap flags, tar flags, what is
 * cleaned). Part of every recipe hash: bump it when the procedure changes so the store's artifacts
 * are rebuilt.
 */
export const BUILD_VERSION = 1;

const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;

/** One template as the runtime sees it: limits plus who commands run as. */
export interface TemplateSpec {
  name: string;
  description?: string;
  cpuCount: number;
  memoryMb: number;
  user: string;
  uid: number;
  gid: number;
  home: string;
}

export interface Recipe {
  /** The e2b-template/ directory this recipe was read from. */
  dir: string;
  file: TemplatesFile;
  packages: string[];
  setupScript: string;
  benchFiles: BenchFile[];
  arch: string;
  /** Store key of the Debian stage (debootstrap + packages + user). */
  baseKey: string;
  /** Store key of the final rootfs (base stage + bench scripts), shared by all templates. */
  rootfsKey: string;
  templates: TemplateSpec[];
}

/** Debian package names from a package list file: one per line, `#` comments, blank lines ignored. */
export function parsePackageList(text: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    for (const name of line.split(/\s+/)) {
      if (!DEBIAN_PACKAGE.test(name)) throw new Error(`packages line ${i + 1}: not a Debian package name: ${name}`);
      if (!seen.has(name)) {
        seen.add(name);
        out.push(name);
      }
    }
  });
  if (out.length === 0) throw new Error('package list is empty');
  return out;
}

export function templateSpecs(file: TemplatesFile): TemplateSpec[] {
  const u = file.recipe.user;
  return Object.entries(file.templates).map(([name, t]) => ({
    name,
    ...(t.description === undefined ? {} : { description: t.description }),
    cpuCount: t.cpu_count,
    memoryMb: t.memory_mb,
    user: u.name,
    uid: u.uid,
    gid: u.gid,
    home: u.home,
  }));
}

/** Debian architecture name of a Node `process.arch`. */
export function debianArch(nodeArch: string = process.arch): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'armhf',
    ia32: 'i386',
    ppc64: 'ppc64el',
    s390x: 's390x',
    riscv64: 'riscv64',
  };
  const arch = map[nodeArch];
  if (!arch) throw new Error(`no Debian architecture for ${nodeArch}`);
  return arch;
}

function sha256(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
}

/**
 * Hash of the Debian stage. Package order does not matter (apt installs a set); everything that
 * changes the installed files does: packages, setup script, user, suite, variant, arch, procedure.
 */
export function baseRecipeHash(input: {
  suite: string;
  variant: string;
  arch: string;
  packages: string[];
  setupScript: string;
  user: TemplateUser;
  buildVersion?: number;
}): string {
  return sha256(
    `build:${input.buildVersion ?? BUILD_VERSION}`,
    `suite:${input.suite}`,
    `variant:${input.variant}`,
    `arch:${input.arch}`,
    `packages:${[...input.packages].sort().join(',')}`,
    `user:${JSON.stringify(input.user)}`,
    `setup:${input.setupScript}`,
  ).slice(0, 16);
}

/** Hash of the final rootfs: the Debian stage plus the bench scripts and where they go. */
export function rootfsHash(baseHash: string, benchPath: string, benchFiles: BenchFile[]): string {
  const files = [...benchFiles].sort((a, b) => (a.path < b.path ? -1 : 1));
  return sha256(
    `base:${baseHash}`,
    `bench:${benchPath}`,
    ...files.map((f) => `${f.path}:${(f.mode & 0o111) !== 0 ? 'x' : '-'}:${f.sha256}`),
  ).slice(0, 16);
}

export async function loadRecipe(dir: string = findRecipeDir(), arch: string = debianArch()): Promise<Recipe> {
  const file = parseTemplatesFile(JSON.parse(await readFile(join(dir, 'templates.json'), 'utf8')));
  const r = file.recipe;
  const packages = parsePackageList(await readFile(join(dir, r.packages), 'utf8'));
  const setupScript = await readFile(join(dir, r.setup), 'utf8');
  const benchFiles = await listBenchFiles(join(dir, r.bench.source));
  const base = baseRecipeHash({ suite: r.suite, variant: r.variant, arch, packages, setupScript, user: r.user });
  const rootfs = rootfsHash(base, r.bench.path, benchFiles);
  return {
    dir,
    file,
    packages,
    setupScript,
    benchFiles,
    arch,
    baseKey: `base-${base}`,
    rootfsKey: `rootfs-${rootfs}`,
    templates: templateSpecs(file),
  };
}
