import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTemplates } from '../../../src/local/template/build.js';
import {
  TemplateNotBuiltError,
  TemplateNotFoundError,
  NodeTemplateCache,
  type PhaseEvent,
} from '../../../src/local/template/cache.js';
import { loadRecipe } from '../../../src/local/template/recipe.js';
import { isMounted } from '../../../src/local/driver/overlay.js';
import { extractImage } from '../../../src/local/template/image.js';
import { countLines, fakeStage, loopDevicesFreed, makeRecipeDir, mountsUnder, removeDir, tempDir } from './helpers.js';

const isRoot = process.getuid?.() === 0;

describe('NodeTemplateCache (node cache)', () => {
  let dir: string;
  let recipeDir: string;
  let store: string;
  let n = 0;
  const provider = (): NodeTemplateCache =>
    new NodeTemplateCache({ store, nodeDir: join(dir, `node-${++n}`), recipeDir });

  beforeAll(async () => {
    dir = await tempDir('cache');
    recipeDir = await makeRecipeDir(join(dir, 'recipe'), { packages: 'bash\n' });
    store = join(dir, 'store');
    await buildTemplates({ store, buildDir: join(dir, 'build'), recipeDir, stage: fakeStage(undefined, 0) });
  });
  afterAll(async () => removeDir(dir));

  it('is cold when not cached (fetch + mount), then warm; templates sharing a rootfs share the copy', async () => {
    const p = provider();
    const events: PhaseEvent[] = [];
    expect(await p.isCached('base')).toBe(false);
    const cold = await p.ensure('base', { onPhase: (e) => events.push(e) });
    expect(cold.cold).toBe(true);
    expect(cold.fetchedBytes).toBeGreaterThan(0);
    expect(events.map((e) => e.name)).toEqual(['fetch', 'unpack']);
    // As root the image is mounted; elsewhere loop devices are out of reach and it is extracted.
    const path = isRoot ? 'mount' : 'extract';
    expect(events[1].path).toBe(path);
    expect(cold.rootfsPath).toBe(path);
    expect(isMounted(cold.rootfs)).toBe(isRoot);
    expect(cold.phases.fetch_seconds).toBe(events[0].seconds);
    expect(cold.phases.unpack_seconds).toBe(events[1].seconds);
    expect(events.every((e) => e.endTime >= e.startTime && e.template === 'base')).toBe(true);
    expect(await readFile(join(cold.rootfs, 'usr', 'bin', 'hello'), 'utf8')).toContain('echo hello');
    expect(existsSync(join(cold.rootfs, 'dev', 'not-packed'))).toBe(false);
    expect(cold).toMatchObject({
      cpuCount: 2,
      memoryMb: 1024,
      user: 'user',
      home: '/home/user',
      layers: [cold.rootfs],
    });

    const warm = await p.ensure('base', { onPhase: (e) => events.push(e) });
    expect(warm.cold).toBe(false);
    expect(warm.rootfs).toBe(cold.rootfs);
    expect(warm.phases).toEqual({ fetch_seconds: 0, unpack_seconds: 0, mount_seconds: 0, wait_seconds: 0 });
    expect(events).toHaveLength(2);

    const small = await p.ensure('small');
    expect(small.cold).toBe(false);
    expect(small.rootfs).toBe(cold.rootfs);
    expect(small).toMatchObject({ cpuCount: 1, memoryMb: 512 });
    await Promise.all([cold.release(), warm.release(), small.release()]);
    // Nobody uses it: unmounted, its loop device gone, the fetched image kept.
    expect(mountsUnder(p.nodeDir)).toEqual([]);
    await loopDevicesFreed(p.nodeDir);
    expect(await p.isCached('base')).toBe(true);

    const again = await p.ensure('base', { onPhase: (e) => events.push(e) });
    expect(again.cold).toBe(false);
    expect(await readFile(join(again.rootfs, 'usr', 'bin', 'hello'), 'utf8')).toContain('echo hello');
    expect(events.slice(2).map((e) => e.name)).toEqual(isRoot ? ['mount'] : []);
    await again.release();
    expect(mountsUnder(p.nodeDir)).toEqual([]);
  });

  it('extracts the image instead of mounting it where loop devices are unavailable', async () => {
    const p = new NodeTemplateCache({ store, nodeDir: join(dir, `node-${++n}`), recipeDir, rootfsPath: 'extract' });
    const events: PhaseEvent[] = [];
    const t = await p.ensure('base', { onPhase: (e) => events.push(e) });
    expect(t.cold).toBe(true);
    expect(events.map((e) => `${e.name}:${e.path ?? ''}`)).toEqual(['fetch:', 'unpack:extract']);
    expect(t.rootfsPath).toBe('extract');
    expect(mountsUnder(p.nodeDir)).toEqual([]);
    expect(await readFile(join(t.rootfs, 'usr', 'bin', 'hello'), 'utf8')).toContain('echo hello');
    // The extracted copy replaces the image.
    expect((await readdir(join(t.rootfs, '..'))).sort()).toEqual(['complete', 'leases', 'rootfs']);
    await t.release();
    expect(existsSync(t.rootfs)).toBe(true);
    const again = await p.ensure('base', { onPhase: (e) => events.push(e) });
    expect([again.cold, events.length]).toEqual([false, 2]);
    await again.release();
  });

  it('evict makes the next ensure cold while the old rootfs stays readable until released', async () => {
    const p = provider();
    const first = await p.ensure('base');
    expect(await p.evict('base')).toEqual([(await p.recipe()).rootfsKey]);
    expect(await p.isCached('base')).toBe(false);

    const second = await p.ensure('base');
    expect(second.cold).toBe(true);
    expect(second.rootfs).not.toBe(first.rootfs);
    // A sandbox still running on the evicted copy keeps reading it.
    expect(await readFile(join(first.rootfs, 'usr', 'bin', 'hello'), 'utf8')).toContain('echo hello');

    await first.release();
    expect(existsSync(first.rootfs)).toBe(false);
    expect(existsSync(second.rootfs)).toBe(true);

    // Evicting a copy nobody leases deletes it at once.
    await second.release();
    await p.evict();
    expect(existsSync(second.rootfs)).toBe(false);
    expect(await p.evict()).toEqual([]);
    expect(mountsUnder(p.nodeDir)).toEqual([]);
    await loopDevicesFreed(p.nodeDir);
  });

  it('unpacks once for concurrent cold ensures', async () => {
    const p = provider();
    const all = await Promise.all([p.ensure('base'), p.ensure('base'), p.ensure('small')]);
    expect(all.filter((t) => t.cold)).toHaveLength(1);
    expect(new Set(all.map((t) => t.rootfs)).size).toBe(1);
    expect(all.filter((t) => !t.cold).every((t) => t.phases.wait_seconds > 0)).toBe(true);
    await Promise.all(all.map((t) => t.release()));
  });

  it('releases every lease and mount of this process synchronously, for exit paths', async () => {
    const p = provider();
    const [a, b] = await Promise.all([p.ensure('base'), p.ensure('small')]);
    expect(mountsUnder(p.nodeDir)).toHaveLength(isRoot ? 1 : 0);
    p.releaseAllSync();
    expect(mountsUnder(p.nodeDir)).toEqual([]);
    await loopDevicesFreed(p.nodeDir);
    expect(await readdir(join(a.rootfs, '..', 'leases'))).toEqual([]);
    await Promise.all([a.release(), b.release()]);
  });

  it('converts a store written before images (a tar.zst rootfs) on first use instead of rebuilding', async () => {
    // An older version's store: the same rootfs as a tar.zst archive with its manifest, no image.
    const old = join(dir, 'store-old');
    const oldRecipe = await makeRecipeDir(join(dir, 'recipe-convert'), {
      packages: 'bash\n',
      bench: { 'b.py': '1\n' },
    });
    const built = await buildTemplates({
      store: old,
      buildDir: join(dir, 'build'),
      recipeDir: oldRecipe,
      stage: fakeStage(undefined, 0),
    });
    const rootfs = join(dir, 'old-rootfs');
    await extractImage(join(old, built.artifact), rootfs);
    const tarObject = `${built.key}.tar.zst`;
    execFileSync('tar', ['--create', `--file=${join(old, tarObject)}`, '--zstd', '--numeric-owner', '-C', rootfs, '.']);
    await rm(join(old, built.artifact));
    const { format: _format, ...legacy } = built.manifest;
    await writeFile(join(old, `${built.key}.json`), JSON.stringify({ ...legacy, object: tarObject }));

    const counter = join(dir, 'convert-stage.txt');
    const p = new NodeTemplateCache({
      store: old,
      nodeDir: join(dir, `node-${++n}`),
      recipeDir: oldRecipe,
      buildDir: join(dir, 'build'),
    });
    expect(await p.isBuilt()).toBe(true);
    const t = await p.ensure('base');
    expect(t.cold).toBe(true);
    expect(await readFile(join(t.rootfs, 'opt', 'e2b-bench', 'bench', 'b.py'), 'utf8')).toBe('1\n');
    await t.release();
    // Converted, not rebuilt: the Debian stage did not run again.
    const again = await buildTemplates({
      store: old,
      buildDir: join(dir, 'build'),
      recipeDir: oldRecipe,
      stage: fakeStage(counter, 0),
    });
    expect(again.built).toBe(false);
    expect(await countLines(counter)).toBe(0);
    expect(again.manifest.format).toBe('squashfs');
    // The old archive stays for older checkouts sharing the store.
    expect((await readdir(old)).sort()).toEqual([`${built.key}.json`, built.artifact, tarObject].sort());
  });

  it('does not let a lease of a dead process pin an evicted copy', async () => {
    const p = provider();
    const t = await p.ensure('base');
    await t.release();
    const dead = spawnSync('true').pid!;
    const leases = join(t.rootfs, '..', 'leases');
    await writeFile(join(leases, `${dead}-1-abc`), '');
    await p.evict('base');
    expect(existsSync(t.rootfs)).toBe(false);
  });

  it('garbage-collects copies of older recipes', async () => {
    const nodeDir = join(dir, 'node-gc');
    const old = await makeRecipeDir(join(dir, 'recipe-old'), { packages: 'bash\ncurl\n' });
    await buildTemplates({ store, buildDir: join(dir, 'build'), recipeDir: old, stage: fakeStage(undefined, 0) });
    const oldProvider = new NodeTemplateCache({ store, nodeDir, recipeDir: old });
    const stale = await oldProvider.ensure('base');
    await stale.release();
    const current = new NodeTemplateCache({ store, nodeDir, recipeDir });
    const t = await current.ensure('base');
    await current.gc();
    expect(existsSync(stale.rootfs)).toBe(false);
    expect(existsSync(t.rootfs)).toBe(true);
    await t.release();
  });

  it('fails clearly for unknown templates and templates not in the store', async () => {
    const p = provider();
    await expect(p.ensure('nope')).rejects.toBeInstanceOf(TemplateNotFoundError);
    const unbuilt = await makeRecipeDir(join(dir, 'recipe-unbuilt'), { packages: 'bash\nfio\n' });
    const q = new NodeTemplateCache({ store, nodeDir: join(dir, 'node-unbuilt'), recipeDir: unbuilt });
    expect(await q.isBuilt()).toBe(false);
    expect(await p.isBuilt()).toBe(true);
    const err = await q.ensure('base').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateNotBuiltError);
    expect((err as Error).message).toMatch(/template build/);
    // A failed cold start leaves no half-unpacked version behind.
    const artifactDir = join(dir, 'node-unbuilt', `${(await loadRecipe(unbuilt)).rootfsKey}.squashfs`);
    expect((await readdir(artifactDir)).filter((e) => e.startsWith('v'))).toEqual([]);
  });

  it('an aborted cold ensure leaves nothing behind and the next one succeeds', async () => {
    const p = provider();
    const ac = new AbortController();
    ac.abort(new Error('client went away'));
    await expect(p.ensure('base', { signal: ac.signal })).rejects.toThrow(/client went away/);
    const t = await p.ensure('base');
    expect(t.cold).toBe(true);
    await t.release();
  });

  it('serves derived (snapshot) templates, layered over their parent', async () => {
    const p = provider();
    const layer = join(dir, 'snapshot-layer');
    await mkdir(layer, { recursive: true });
    p.registerDerived('snap-1', layer, { parent: 'small', memoryMb: 768 });
    const t = await p.ensure('snap-1');
    const parent = await p.ensure('small');
    expect(t.rootfs).toBe(layer);
    expect(t.layers).toEqual([layer, parent.rootfs]);
    expect(t).toMatchObject({ name: 'snap-1', cpuCount: 1, memoryMb: 768, user: 'user', artifact: 'derived:snap-1' });
    expect((await p.list()).map((s) => s.name)).toEqual(['base', 'small', 'half', 'snap-1']);
    await Promise.all([t.release(), parent.release()]);

    p.registerDerived('standalone', layer, { cpuCount: 1, memoryMb: 256, user: 'root', uid: 1, gid: 1, home: '/root' });
    const s = await p.ensure('standalone');
    expect(s.layers).toEqual([layer]);
    expect(p.unregisterDerived('snap-1')).toBe(true);
    await expect(p.ensure('snap-1')).rejects.toBeInstanceOf(TemplateNotFoundError);
  });
});
