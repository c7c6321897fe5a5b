import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProbeError } from '../probe/reasons.js';
import { findRecipeDir, listBenchFiles, parseTemplatesFile } from './recipe-file.js';

// The bench scripts as the sandbox probes upload them: read once from this checkout's
// e2b-template/, hashed so a template's installed copy is used only when it is byte for byte ours.

interface LocalBenchFile {
  path: string;
  sha256: string;
  content: Buffer;
}

export interface LocalBench {
  /** Where the template recipe installs the scripts. */
  installedDir: string;
  files: LocalBenchFile[];
  /** Short hash of every file: which scripts ran. */
  version: string;
}

let localBenchCache: Promise<LocalBench> | undefined;

/** Path of one bench script in this checkout, for running it on the host itself. */
export async function localBenchScript(path: string): Promise<string> {
  const dir = findRecipeDir();
  const recipe = parseTemplatesFile(JSON.parse(await readFile(join(dir, 'templates.json'), 'utf8'))).recipe;
  return join(dir, recipe.bench.source, path);
}

/** The bench/ scripts of this checkout (e2b-template/bench), with their hashes. */
export function localBench(): Promise<LocalBench> {
  localBenchCache ??= (async () => {
    const dir = findRecipeDir();
    const recipe = parseTemplatesFile(JSON.parse(await readFile(join(dir, 'templates.json'), 'utf8'))).recipe;
    const source = join(dir, recipe.bench.source);
    const listed = await listBenchFiles(source);
    if (listed.length === 0) throw new ProbeError('internal', `no bench scripts in ${recipe.bench.source}/`);
    const files = await Promise.all(
      listed.map(async (f) => ({ path: f.path, sha256: f.sha256, content: await readFile(join(source, f.path)) })),
    );
    const version = createHash('sha256')
      .update(files.map((f) => `${f.path} ${f.sha256}\n`).join(''))
      .digest('hex')
      .slice(0, 12);
    return { installedDir: recipe.bench.path, files, version };
  })();
  localBenchCache.catch(() => (localBenchCache = undefined));
  return localBenchCache;
}
