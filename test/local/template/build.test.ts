import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTemplates } from '../../../src/local/template/build.js';
import { loadRecipe } from '../../../src/local/template/recipe.js';
import { DirStore } from '../../../src/local/template/store.js';
import { countLines, fakeStage, makeRecipeDir, REPO, removeDir, runChild, tempDir } from './helpers.js';

// The build orchestration (cache check, lock, stages, packing, manifests) with a fake Debian
// stage; the real debootstrap build is in build.integration.test.ts.
describe('buildTemplates', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('build');
  });
  afterAll(async () => removeDir(dir));

  const setup = async (name: string, bench: Record<string, string> = {}) => {
    const recipeDir = await makeRecipeDir(join(dir, name, 'recipe'), { packages: 'bash\n', bench });
    return {
      recipeDir,
      store: join(dir, name, 'store'),
      buildDir: join(dir, name, 'build'),
      counter: join(dir, name, 'builds.txt'),
    };
  };

  it('builds once for two concurrent calls, then reuses the store until forced', async () => {
    const s = await setup('concurrent');
    const opts = { store: s.store, buildDir: s.buildDir, recipeDir: s.recipeDir, stage: fakeStage(s.counter) };
    const [a, b] = await Promise.all([buildTemplates(opts), buildTemplates(opts)]);
    expect(await countLines(s.counter)).toBe(1);
    expect([a.built, b.built].sort()).toEqual([false, true]);
    expect(a.artifact).toBe(b.artifact);
    expect(a.templates).toEqual(['base', 'small', 'half']);
    expect(await new DirStore(s.store).size(a.artifact)).toBe(a.bytes);

    const again = await buildTemplates(opts);
    expect(again.built).toBe(false);
    expect(again.manifest.sha256).toBe(a.manifest.sha256);
    expect(await countLines(s.counter)).toBe(1);

    const forced = await buildTemplates({ ...opts, force: true });
    expect(forced.built).toBe(true);
    expect(await countLines(s.counter)).toBe(2);
  });

  it('lets only one of two processes build', async () => {
    const s = await setup('processes');
    const env = { STORE_DIR: s.store, BUILD_DIR: s.buildDir, RECIPE_DIR: s.recipeDir, COUNTER_FILE: s.counter };
    const script = join(REPO, 'test', 'local', 'template', 'fixtures', 'build-child.ts');
    const results = (await Promise.all([runChild(script, env), runChild(script, env)])).map(
      (out) => JSON.parse(out) as { built: boolean; artifact: string },
    );
    expect(await countLines(s.counter)).toBe(1);
    expect(results.map((r) => r.built).sort()).toEqual([false, true]);
    expect(results[0].artifact).toBe(results[1].artifact);
  });

  it('reuses the Debian stage when only the bench scripts change', async () => {
    const s = await setup('bench', { 'run.py': 'print("v1")\n' });
    const opts = { store: s.store, buildDir: s.buildDir, recipeDir: s.recipeDir, stage: fakeStage(s.counter, 0) };
    const first = await buildTemplates(opts);
    const s2 = await makeRecipeDir(join(dir, 'bench', 'recipe2'), {
      packages: 'bash\n',
      bench: { 'run.py': 'print("v2")\n' },
    });
    const second = await buildTemplates({ ...opts, recipeDir: s2 });
    expect(second.built).toBe(true);
    expect(second.artifact).not.toBe(first.artifact);
    expect(second.manifest.base_key).toBe(first.manifest.base_key);
    expect(await countLines(s.counter)).toBe(1);
    expect(second.manifest.recipe.bench_files).toBe(1);
    expect((await loadRecipe(s2)).rootfsKey).toBe(second.key);
  });

  it('prunes artifacts of older recipes, keeping the newest ones', async () => {
    const s = await setup('prune');
    const built: string[] = [];
    for (const v of [1, 2, 3]) {
      const recipeDir = await makeRecipeDir(join(dir, 'prune', `r${v}`), {
        packages: 'bash\n',
        bench: { 'x.py': `print(${v})\n` },
      });
      const r = await buildTemplates({
        store: s.store,
        buildDir: s.buildDir,
        recipeDir,
        stage: fakeStage(undefined, 0),
        keep: 2,
      });
      built.push(r.key);
      await new Promise((r) => setTimeout(r, 5)); // distinct build times
    }
    const store = new DirStore(s.store);
    const names = await store.list();
    // One image and its manifest per kept recipe; no separate Debian-stage archive.
    expect(names.sort()).toEqual(
      [`${built[1]}.squashfs`, `${built[1]}.json`, `${built[2]}.squashfs`, `${built[2]}.json`].sort(),
    );
  });
});
