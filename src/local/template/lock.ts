import { open, readFile, stat, unlink, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A lock file shared by processes on one machine: created with O_EXCL, holding `pid host time`.
 * A lock whose process is gone (crash, kill -9) is taken over, so nobody waits forever. Waiters
 * in the same process queue in memory first, so they do not poll each other.
 * Limits: liveness is judged by pid on the same host (a lock written by another host is treated
 * as held); if two waiters take over the same stale lock at the very same moment, both may run.
 */
export interface Lock {
  release(): Promise<void>;
}

export interface LockOptions {
  signal?: AbortSignal;
  /** Poll interval while another process holds the lock. */
  pollMs?: number;
  /** Called once when the lock is busy and the caller starts waiting. */
  onWait?: (holder: string) => void;
}

const queues = new Map<string, Promise<void>>();

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `fn` while holding the lock at `path`. */
export async function withLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(path, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

export async function acquireLock(path: string, opts: LockOptions = {}): Promise<Lock> {
  // In-process queue: chain behind the previous holder in this process.
  let waitReported = false;
  const onWait = (holder: string): void => {
    if (!waitReported) opts.onWait?.(holder);
    waitReported = true;
  };
  const queued = queues.get(path);
  if (queued) onWait(`${process.pid} (this process)`);
  const previous = queued ?? Promise.resolve();
  let releaseQueue!: () => void;
  const mine = new Promise<void>((r) => (releaseQueue = r));
  const tail = previous.then(() => mine);
  queues.set(path, tail);
  const leaveQueue = (): void => {
    releaseQueue();
    if (queues.get(path) === tail) queues.delete(path);
  };
  try {
    await abortable(previous, opts.signal);
    await acquireFile(path, { ...opts, onWait });
  } catch (err) {
    leaveQueue();
    throw err;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await unlink(path).catch(() => undefined);
      leaveQueue();
    },
  };
}

async function acquireFile(path: string, opts: LockOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const me = `${process.pid} ${hostname()} ${Date.now()}\n`;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(me);
      } finally {
        await fh.close();
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readFile(path, 'utf8').catch(() => undefined);
    if (holder === undefined) continue; // released between our open and read
    if (await isStale(path, holder)) {
      // Take over only if the file still holds what we judged stale.
      const again = await readFile(path, 'utf8').catch(() => undefined);
      if (again === holder) await unlink(path).catch(() => undefined);
      continue;
    }
    opts.onWait?.(holder.trim());
    try {
      await sleep(opts.pollMs ?? 100, undefined, opts.signal ? { signal: opts.signal } : {});
    } catch (err) {
      // Reject with the caller's abort reason, as everything else here does.
      throw opts.signal?.aborted ? opts.signal.reason : err;
    }
  }
}

async function isStale(path: string, holder: string): Promise<boolean> {
  const [pidText, host] = holder.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!holder.trim() || !Number.isInteger(pid) || pid <= 0) {
    // Written by a process that died between create and write: stale once it is old.
    const st = await stat(path).catch(() => undefined);
    return st !== undefined && Date.now() - st.mtimeMs > 10_000;
  }
  if (host !== hostname()) return false;
  return !pidAlive(pid);
}

function abortable(p: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return p;
  signal.throwIfAborted();
  return new Promise((resolvePromise, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolvePromise();
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
