import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';

/** Absolute, normalised path inside the sandbox; relative paths are relative to `home`. */
export function sandboxPath(input: string, home: string): string {
  return path.posix.resolve(home, input);
}

/**
 * Map a sandbox path to a host path under `root` (e.g. /proc/PID/root), resolving symlinks
 * *inside* the sandbox so that a link such as /home/user/x -> /etc never leads to the host's /etc.
 * Missing components are kept as they are (callers may be about to create them).
 */
export async function resolveInRoot(root: string, absPath: string, followLast = true): Promise<string> {
  const pending = absPath.split('/').filter((c) => c !== '' && c !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const comp = pending.shift()!;
    if (comp === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, comp];
    const isLast = pending.length === 0;
    if (isLast && !followLast) {
      resolved.push(comp);
      break;
    }
    let st;
    try {
      st = await lstat(path.join(root, ...candidate));
    } catch {
      resolved.push(comp, ...pending.filter((c) => c !== '.'));
      pending.length = 0;
      break;
    }
    if (!st.isSymbolicLink()) {
      resolved.push(comp);
      continue;
    }
    if (++links > 40)
      throw Object.assign(new Error(`too many levels of symbolic links: ${absPath}`), { code: 'ELOOP' });
    const target = await readlink(path.join(root, ...candidate));
    const targetParts = target.split('/').filter((c) => c !== '' && c !== '.');
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...targetParts);
  }
  // Re-normalise any '..' that came from the tail of a missing path.
  const clean: string[] = [];
  for (const c of resolved) {
    if (c === '..') clean.pop();
    else clean.push(c);
  }
  return path.join(root, ...clean);
}
