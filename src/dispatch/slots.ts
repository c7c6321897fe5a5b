import { waitInQueue } from './queue.js';

/**
 * Concurrency slots with a global cap and per-key caps. Waiters are served in FIFO order among
 * those whose key has room, so a busy target cannot starve the others.
 */
export class Slots {
  private total = 0;
  private readonly perKey = new Map<string, number>();
  private readonly waiters: { key: string; cap: number; resolve: () => void }[] = [];

  constructor(private globalCap: number) {}

  setGlobalCap(cap: number): void {
    this.globalCap = cap;
    this.pump();
  }

  inUse(key?: string): number {
    return key === undefined ? this.total : (this.perKey.get(key) ?? 0);
  }

  tryAcquire(key: string, cap: number): boolean {
    if (this.total >= this.globalCap || (this.perKey.get(key) ?? 0) >= cap) return false;
    this.total++;
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    return true;
  }

  acquire(key: string, cap: number, signal?: AbortSignal): Promise<void> {
    if (this.tryAcquire(key, cap)) return Promise.resolve();
    return waitInQueue(this.waiters, (resolve) => ({ key, cap, resolve }), signal);
  }

  release(key: string): void {
    this.total--;
    const n = (this.perKey.get(key) ?? 1) - 1;
    if (n <= 0) this.perKey.delete(key);
    else this.perKey.set(key, n);
    this.pump();
  }

  private pump(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i];
      if (this.tryAcquire(w.key, w.cap)) {
        this.waiters.splice(i, 1);
        w.resolve();
      } else i++;
    }
  }
}
