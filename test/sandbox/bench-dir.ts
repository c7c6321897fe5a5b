import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The e2b-template/ directory of this checkout. */
export const TEMPLATE_DIR = fileURLToPath(new URL('../../e2b-template/', import.meta.url));
export const BENCH_DIR = join(TEMPLATE_DIR, 'bench');

/**
 * A copy of bench/ with one file edited (to break a kernel on purpose); `remove` deletes it.
 * Throws if the edit did not apply, so a refactor cannot silently turn the test into a no-op.
 */
export function brokenBenchCopy(file: string, from: string, to: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'e2bbench-broken-'));
  cpSync(BENCH_DIR, dir, { recursive: true });
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} has no ${JSON.stringify(from)}`);
  writeFileSync(path, text.replace(from, to));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
