import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTemplates } from '../../../src/local/template/build.js';
import {
  TemplateNotBuiltError,
  TemplateNotFoundError,
  TemplateProvider,
  type PhaseEvent,
} from '../../../src/local/template/cache.js';
import { loadRecipe } from '../../../src/local/template/recipe.js';
import { fakeStage, makeRecipeDir, removeDir, tempDir } from './helpers.js';

describe('TemplateProvider (node cache)', () => {
  let dir: string;
  let recipeDir: string;
  let store: string;
  let n = 0;
  const provider = (): TemplateProvider =>
    new TemplateProvider({ store, nodeDir: join(dir, `node-${++n}`), recipeDir });

  beforeAll(async () => {
    dir = await tempDir('cache');
    recipeDir = await makeRecipeDir(join(dir, 'recipe'), { packages: 'bash\n' });
    store = join(dir, 'store');
    await buildTemplates({ store, buildDir: join(dir, 'build'), recipeDir, stage: fakeStage(undefined, 0) });
  });
  afterAll(async () => removeDir(dir));

  it('is cold when not cached (fetch + unpack), then warm; templates sharing a rootfs share the copy', async () => {
    const p = provider();
    const events: PhaseEvent[] = [];
    expect(await p.isCached('base')).toBe(false);
    const cold = await p.ensure('base', { onPhase: (e) => events.push(e) });
    expect(cold.cold).toBe(true);
    expect(cold.fetchedBytes).toBeGreaterThan(0);
    expect(events.map((e) => e.name)).toEqual(['fetch', 'unpack']);
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
    expect(warm.phases).toEqual({ fetch_seconds: 0, unpack_seconds: 0, wait_seconds: 0 });
    expect(events).toHaveLength(2);

    const small = await p.ensure('small');
    expect(small.cold).toBe(false);
    expect(small.rootfs).toBe(cold.rootfs);
    expect(small).toMatchObject({ cpuCount: 1, memoryMb: 512 });
    await Promise.all([cold.release(), warm.release(), small.release()]);
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
  });

  it('unpacks once for concurrent cold ensures', async () => {
    const p = provider();
    const all = await Promise.all([p.ensure('base'), p.ensure('base'), p.ensure('small')]);
    expect(all.filter((t) => t.cold)).toHaveLength(1);
    expect(new Set(all.map((t) => t.rootfs)).size).toBe(1);
    expect(all.filter((t) => !t.cold).every((t) => t.phases.wait_seconds > 0)).toBe(true);
    await Promise.all(all.map((t) => t.release()));
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
    const oldProvider = new TemplateProvider({ store, nodeDir, recipeDir: old });
    const stale = await oldProvider.ensure('base');
    await stale.release();
    const current = new TemplateProvider({ store, nodeDir, recipeDir });
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
    const q = new TemplateProvider({ store, nodeDir: join(dir, 'node-unbuilt'), recipeDir: unbuilt });
    expect(await q.isBuilt()).toBe(false);
    expect(await p.isBuilt()).toBe(true);
    const err = await q.ensure('base').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemplateNotBuiltError);
    expect((err as Error).message).toMatch(/template build/);
    // A failed cold start leaves no half-unpacked version behind.
    const artifactDir = join(dir, 'node-unbuilt', (await loadRecipe(unbuilt)).rootfsKey);
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
