import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CommandError } from './proc.js';

/*
 * The tar.zst archives template stores held before images: still read to convert such a store
 * (build.ts) without rebuilding it.
 */

/**
 * Paths left out of a packed rootfs: device nodes, kernel filesystems and scratch space are
 * provided by the sandbox runtime, and without device nodes an unprivileged unpack works too.
 * The directories themselves stay (they are mount points).
 */
export const ROOTFS_EXCLUDES = ['./dev/*', './proc/*', './sys/*', './tmp/*', './var/tmp/*'];

// Numeric owners: the rootfs has its own /etc/passwd. Extended attributes: file capabilities.
const TAR_COMMON = ['--numeric-owner', '--xattrs', '--xattrs-include=*'];

/**
 * Unpacks a tar.zst (a file path or a stream, as older versions packed it: numeric owners,
 * xattrs) into `dir` (created if needed). As root, owners, modes and xattrs are restored exactly.
 */
export async function unpackTo(
  source: string | Readable,
  dir: string,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const fromFile = typeof source === 'string';
  const args = [
    '--extract',
    `--file=${fromFile ? source : '-'}`,
    '--use-compress-program=zstd',
    ...TAR_COMMON,
    '-C',
    dir,
  ];
  const child = spawn('tar', args, { stdio: [fromFile ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
  const exited = waitExit(child, 'tar --extract', opts.signal);
  try {
    if (!fromFile) await pipeline(source, child.stdin!);
    await exited;
  } catch (err) {
    child.kill('SIGTERM');
    await exited.catch(() => undefined);
    throw err;
  }
}

function waitExit(child: ReturnType<typeof spawn>, what: string, signal?: AbortSignal): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-8192);
  });
  const onAbort = (): void => {
    child.kill('SIGTERM');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(signal.reason);
      else if (code === 0) resolvePromise();
      else reject(new CommandError(what, code, stderr));
    });
  });
}
