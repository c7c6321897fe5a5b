/**
 * Puts a waiter made by `make` on `queue` and resolves when the waiter's `grant` is called. An abort
 * first takes it off the queue and rejects with the signal's reason; `onLeave` then runs, since a
 * waiter leaving the head of the queue may let the next one in.
 */
export function waitInQueue<W>(
  queue: W[],
  make: (grant: () => void) => W,
  signal?: AbortSignal,
  onLeave?: () => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      const i = queue.indexOf(waiter);
      if (i < 0) return;
      queue.splice(i, 1);
      reject(signal!.reason);
      onLeave?.();
    };
    const waiter = make(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    queue.push(waiter);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
