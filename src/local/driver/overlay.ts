import { readFileSync } from 'node:fs';
import { run, runSync } from './run.js';

/** overlayfs mount options; lower layers topmost first. Commas and colons in paths are not allowed. */
export function overlayOptions(lowerDirs: string[], upperDir: string, workDir: string): string {
  for (const p of [...lowerDirs, upperDir, workDir]) {
    if (/[,:]/.test(p)) throw new Error(`overlay layer path may not contain ',' or ':': ${p}`);
  }
  return `lowerdir=${lowerDirs.join(':')},upperdir=${upperDir},workdir=${workDir}`;
}

export async function mountOverlay(
  lowerDirs: string[],
  upperDir: string,
  workDir: string,
  target: string,
): Promise<void> {
  await run('mount', ['-t', 'overlay', 'overlay', '-o', overlayOptions(lowerDirs, upperDir, workDir), target]);
}

export function isMounted(target: string): boolean {
  const mounts = readFileSync('/proc/self/mounts', 'utf8');
  return mounts.split('\n').some((l) => l.split(' ')[1] === target);
}

export async function unmount(target: string): Promise<void> {
  if (!isMounted(target)) return;
  try {
    await run('umount', [target]);
  } catch {
    // Busy (a late process still holds it): detach lazily, the kernel drops it when released.
    await run('umount', ['-l', target]);
  }
}

export function unmountSync(target: string): void {
  if (!isMounted(target)) return;
  if (!runSync('umount', [target])) runSync('umount', ['-l', target]);
}
