import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/** Bytes used by the files under `dir` (apparent sizes), stopping after `maxEntries`. */
export async function dirBytes(dir: string, maxEntries = 100_000): Promise<number> {
  let total = 0;
  let seen = 0;
  const stack = [dir];
  while (stack.length > 0 && seen < maxEntries) {
    const d = stack.pop()!;
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      seen++;
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) {
        try {
          total += (await lstat(p)).size;
        } catch {
          // removed meanwhile
        }
      }
    }
  }
  return total;
}
