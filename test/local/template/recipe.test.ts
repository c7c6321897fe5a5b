import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseRecipeHash,
  debianArch,
  loadRecipe,
  parsePackageList,
  templateSpecs,
} from '../../../src/local/template/recipe.js';
import { findRecipeDir, parseTemplatesFile } from '../../../src/template/recipe-file.js';
import { makeRecipeDir, RECIPE_DIR, removeDir, tempDir } from './helpers.js';

describe('package list', () => {
  it('reads one package per line, skipping comments and blank lines, keeping order without duplicates', () => {
    const text = '# tools\nbash\n\n  python3   # runtime\nsysbench\nbash\nlibc6 zlib1g\n';
    expect(parsePackageList(text)).toEqual(['bash', 'python3', 'sysbench', 'libc6', 'zlib1g']);
  });

  it('rejects names that are not Debian package names', () => {
    expect(() => parsePackageList('bash\nPython3\n')).toThrow(/line 2.*Python3/);
    expect(() => parsePackageList('curl;rm\n')).toThrow(/not a Debian package name/);
    expect(() => parsePackageList('# nothing\n')).toThrow(/empty/);
  });
});

describe('the repository recipe', () => {
  it('is found from the module and declares base (default) and a smaller template', async () => {
    expect(findRecipeDir({})).toBe(RECIPE_DIR);
    const recipe = await loadRecipe(RECIPE_DIR);
    expect(recipe.file.default).toBe('base');
    const byName = Object.fromEntries(recipe.templates.map((t) => [t.name, t]));
    expect(byName.base).toMatchObject({ cpuCount: 2, memoryMb: 1024, user: 'user', home: '/home/user' });
    expect(byName.small.cpuCount).toBeLessThan(byName.base.cpuCount);
    expect(byName.small.memoryMb).toBeLessThan(byName.base.memoryMb);
    // Half a CPU of quota: the template that shows what a fractional limit does.
    expect(byName.half.cpuCount).toBe(0.5);
    for (const tool of ['bash', 'coreutils', 'python3', 'nodejs', 'sysbench', 'fio', 'iperf3', 'stress-ng', 'curl']) {
      expect(recipe.packages).toContain(tool);
    }
    expect(recipe.rootfsKey).toMatch(/^rootfs-[0-9a-f]{16}$/);
    expect(recipe.baseKey).toMatch(/^base-[0-9a-f]{16}$/);
  });

  it('takes fractional CPU quotas but not zero or negative ones, naming the bad key', async () => {
    const json = JSON.parse(await readFile(join(RECIPE_DIR, 'templates.json'), 'utf8'));
    json.templates.quarter = { cpu_count: 0.25, memory_mb: 256 };
    expect(templateSpecs(parseTemplatesFile(json)).find((t) => t.name === 'quarter')?.cpuCount).toBe(0.25);
    json.templates.quarter.cpu_count = 0;
    expect(() => parseTemplatesFile(json)).toThrow(/templates.*quarter.*cpu_count/s);
  });

  it('rejects a templates file whose default is not a template', async () => {
    const json = JSON.parse(await readFile(join(RECIPE_DIR, 'templates.json'), 'utf8'));
    json.default = 'nope';
    expect(() => parseTemplatesFile(json)).toThrow(/default/);
  });
});

describe('recipe hash', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('recipe');
  });
  afterAll(async () => removeDir(dir));

  it('changes when the package list changes, not when only its order or comments change', async () => {
    const a = await loadRecipe(await makeRecipeDir(join(dir, 'a'), { packages: 'bash\npython3\n' }));
    const reordered = await loadRecipe(await makeRecipeDir(join(dir, 'b'), { packages: '# x\npython3\nbash\n' }));
    const more = await loadRecipe(await makeRecipeDir(join(dir, 'c'), { packages: 'bash\npython3\nfio\n' }));
    expect(reordered.baseKey).toBe(a.baseKey);
    expect(reordered.rootfsKey).toBe(a.rootfsKey);
    expect(more.baseKey).not.toBe(a.baseKey);
    expect(more.rootfsKey).not.toBe(a.rootfsKey);
  });

  it('changes with the setup script, and bench files change only the final rootfs', async () => {
    const a = await loadRecipe(await makeRecipeDir(join(dir, 'd'), { packages: 'bash\n' }));
    const setup = await loadRecipe(
      await makeRecipeDir(join(dir, 'e'), { packages: 'bash\n', setup: '#!/bin/sh\ntrue\n' }),
    );
    const bench = await loadRecipe(
      await makeRecipeDir(join(dir, 'f'), { packages: 'bash\n', bench: { 'cpu.py': 'print(1)\n' } }),
    );
    const bench2 = await loadRecipe(
      await makeRecipeDir(join(dir, 'g'), { packages: 'bash\n', bench: { 'cpu.py': 'print(2)\n' } }),
    );
    expect(setup.baseKey).not.toBe(a.baseKey);
    expect(bench.baseKey).toBe(a.baseKey);
    expect(bench.rootfsKey).not.toBe(a.rootfsKey);
    expect(bench2.rootfsKey).not.toBe(bench.rootfsKey);
    expect(bench.benchFiles.map((f) => f.path)).toEqual(['cpu.py']);
  });

  it('changes with the architecture and the build procedure version', () => {
    const input = {
      suite: 'bookworm',
      variant: 'minbase',
      arch: 'amd64',
      packages: ['bash'],
      setupScript: 'x',
      user: { name: 'user', uid: 1000, gid: 1000, home: '/home/user', shell: '/bin/bash' },
    };
    const h = baseRecipeHash(input);
    expect(baseRecipeHash({ ...input, arch: 'arm64' })).not.toBe(h);
    expect(baseRecipeHash({ ...input, buildVersion: 999 })).not.toBe(h);
    expect(debianArch('x64')).toBe('amd64');
    expect(debianArch('arm64')).toBe('arm64');
  });
});
