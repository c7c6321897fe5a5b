import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { StageBuilder } from '../../../src/local/template/build.js';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const RECIPE_DIR = join(REPO, 'e2b-template');

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `e2bbench-${prefix}-`));
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (!dir) return;
  unmountUnder(dir);
  await rm(dir, { recursive: true, force: true });
}

/**
 * A copy of the real e2b-template/ recipe in `dir`, optionally with another package list and
 * bench files, so hashes and builds can be tested without touching the repository.
 */
export async function makeRecipeDir(
  dir: string,
  opts: { packages?: string; bench?: Record<string, string>; setup?: string } = {},
): Promise<string> {
  await mkdir(dir, { recursive: true });
  await copyFile(join(RECIPE_DIR, 'templates.json'), join(dir, 'templates.json'));
  await writeFile(
    join(dir, 'packages.txt'),
    opts.packages ?? (await readFile(join(RECIPE_DIR, 'packages.txt'), 'utf8')),
  );
  await writeFile(
    join(dir, 'rootfs-setup.sh'),
    opts.setup ?? (await readFile(join(RECIPE_DIR, 'rootfs-setup.sh'), 'utf8')),
  );
  for (const [path, content] of Object.entries(opts.bench ?? {})) {
    const full = join(dir, 'bench', path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
  }
  return dir;
}

/**
 * A stand-in for debootstrap + apt: writes a tiny root filesystem. Each call appends a line to
 * `counterFile` (when given) so tests can count builds, also across processes.
 */
export function fakeStage(counterFile?: string, delayMs = 300): StageBuilder {
  return async ({ rootfs }) => {
    if (counterFile) await writeFile(counterFile, `${process.pid}\n`, { flag: 'a' });
    await mkdir(join(rootfs, 'usr', 'bin'), { recursive: true });
    await mkdir(join(rootfs, 'etc'), { recursive: true });
    await mkdir(join(rootfs, 'dev'), { recursive: true });
    await writeFile(join(rootfs, 'usr', 'bin', 'hello'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
    await writeFile(
      join(rootfs, 'etc', 'passwd'),
      'root:x:0:0::/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/bash\n',
    );
    await writeFile(join(rootfs, 'dev', 'not-packed'), 'device nodes are excluded from artifacts');
    await new Promise((r) => setTimeout(r, delayMs));
    return { packageVersions: { hello: '1.0' } };
  };
}

export async function countLines(file: string): Promise<number> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

/** Runs a TypeScript fixture in a child Node process; resolves with its stdout. */
export function runChild(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`child exit ${code}: ${err}`))));
  });
}

/** Mount points at or under `dir` in this mount namespace. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** Loop devices whose backing file is under `dir` (deleted backing files included). */
export function loopDevicesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const dev of readdirSync('/sys/block').filter((d) => d.startsWith('loop'))) {
    let backing = '';
    try {
      backing = readFileSync(`/sys/block/${dev}/loop/backing_file`, 'utf8').trim();
    } catch {
      continue; // not attached
    }
    if (backing.startsWith(`${dir}/`)) out.push(`${dev} ${backing}`);
  }
  return out;
}

/**
 * Waits until no loop device is backed by a file under `dir`. The kernel detaches an autoclear
 * loop device from a work queue shortly after the last unmount, not during it.
 */
export async function loopDevicesFreed(dir: string): Promise<void> {
  await expect.poll(() => loopDevicesUnder(dir), { timeout: 10_000 }).toEqual([]);
}

/** Detaches what a failed test left mounted under `dir`, so the directory can be removed. */
export function unmountUnder(dir: string): void {
  for (const m of mountsUnder(dir).reverse()) spawnSync('umount', ['-l', m]);
}
