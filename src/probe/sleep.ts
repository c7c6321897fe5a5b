/**
 * Waits `ms`. An abort rejects at once with the signal's reason (the run's timeout or abort error,
 * so a stopped wait is classified by why the run stopped). `unref`: the wait alone does not keep
 * the process alive.
 */
export function sleep(ms: number, signal?: AbortSignal, opts: { unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (opts.unref) t.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
