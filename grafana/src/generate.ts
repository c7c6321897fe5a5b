/**
 * Writes grafana/dashboards/*.json from the typed definitions in grafana/src/dashboards/.
 *   node --import tsx grafana/src/generate.ts           write the files
 *   node --import tsx grafana/src/generate.ts --check   exit 1 when a committed file is stale
 */
import { readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDashboards } from './index.js';

export const DASHBOARD_DIR = fileURLToPath(new URL('../dashboards/', import.meta.url));

/** Names of files that differ from the generated output (missing, stale or no longer generated). */
export async function staleDashboards(dir = DASHBOARD_DIR): Promise<string[]> {
  const want = renderDashboards();
  const have = (await readdir(dir)).filter((f) => f.endsWith('.json'));
  const stale: string[] = [];
  for (const [file, text] of want) {
    const current = await readFile(join(dir, file), 'utf8').catch(() => undefined);
    if (current !== text) stale.push(file);
  }
  for (const file of have) if (!want.has(file)) stale.push(file);
  return stale;
}

async function main(): Promise<number> {
  if (process.argv.includes('--check')) {
    const stale = await staleDashboards();
    if (stale.length === 0) return 0;
    process.stderr.write(`stale dashboards: ${stale.join(', ')}; run: npm run dashboards\n`);
    return 1;
  }
  const want = renderDashboards();
  for (const file of (await readdir(DASHBOARD_DIR)).filter((f) => f.endsWith('.json')))
    if (!want.has(file)) await unlink(join(DASHBOARD_DIR, file));
  for (const [file, text] of want) await writeFile(join(DASHBOARD_DIR, file), text);
  process.stdout.write(`wrote ${[...want.keys()].join(', ')} to grafana/dashboards/\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await main();
