import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * Root of everything the local template machinery keeps on disk:
 * `$E2BBENCH_CACHE_DIR`, else `$XDG_CACHE_HOME/e2b-bench`, else `~/.cache/e2b-bench`.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.E2BBENCH_CACHE_DIR) return resolve(env.E2BBENCH_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(xdg, 'e2b-bench');
}

/** The template store (built tar.zst artifacts + manifests) when it is a directory. */
export function defaultStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'templates');
}

/** The node cache: unpacked root filesystems, the read-only lower layers of sandboxes. */
export function defaultNodeDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'node');
}

/** Scratch space of builds and the build lock. */
export function defaultBuildDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'build');
}
