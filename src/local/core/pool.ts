import type { DriverSandbox } from '../driver/types.js';
import type { ResolvedTemplate } from './templates.js';

export interface PooledSandbox {
  template: ResolvedTemplate;
  sandbox: DriverSandbox;
  dead: boolean;
}

export interface PoolHooks {
  /** Desired idle sandboxes for a template. */
  sizeFor(template: string): number;
  start(template: string): Promise<PooledSandbox>;
  destroy(p: PooledSandbox): Promise<void>;
  onChange?(template: string, idle: number): void;
  onError?(template: string, err: unknown): void;
}

/** Pre-started sandboxes per template, refilled in the background one at a time. */
export class WarmPool {
  private idle = new Map<string, PooledSandbox[]>();
  private filling = new Map<string, Promise<void>>();
  private generation = new Map<string, number>();
  private stopped = false;

  constructor(private readonly hooks: PoolHooks) {}

  count(template?: string): number {
    if (template !== undefined) return this.idle.get(template)?.length ?? 0;
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  templates(): string[] {
    return [...this.idle.keys()];
  }

  claim(template: string): PooledSandbox | undefined {
    const list = this.idle.get(template);
    while (list && list.length > 0) {
      const p = list.shift()!;
      this.hooks.onChange?.(template, list.length);
      if (!p.dead) return p;
      void this.hooks.destroy(p).catch(() => undefined);
    }
    return undefined;
  }

  /** Top the pool up to its size (deduplicated; resolves when done). */
  refill(template: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const running = this.filling.get(template);
    if (running) return running;
    const gen = this.generation.get(template) ?? 0;
    // The entry is removed in a later microtask, so even a fill with nothing to do never leaves
    // a stale (already settled) entry behind.
    const work: Promise<void> = this.fill(template, gen).finally(() => {
      if (this.filling.get(template) === work) this.filling.delete(template);
    });
    this.filling.set(template, work);
    return work;
  }

  private async fill(template: string, gen: number): Promise<void> {
    const current = () => !this.stopped && (this.generation.get(template) ?? 0) === gen;
    while (current() && this.count(template) < this.hooks.sizeFor(template)) {
      let p: PooledSandbox;
      try {
        p = await this.hooks.start(template);
      } catch (err) {
        this.hooks.onError?.(template, err);
        return;
      }
      if (!current()) {
        await this.hooks.destroy(p).catch(() => undefined);
        return;
      }
      void p.sandbox.exited.then(() => (p.dead = true));
      const list = this.idle.get(template) ?? [];
      list.push(p);
      this.idle.set(template, list);
      this.hooks.onChange?.(template, list.length);
    }
  }

  /** Remove idle sandboxes (of one template or all); in-flight fills are discarded too. */
  async drain(template?: string): Promise<number> {
    const names = template !== undefined ? [template] : [...new Set([...this.idle.keys(), ...this.filling.keys()])];
    let n = 0;
    for (const name of names) {
      this.generation.set(name, (this.generation.get(name) ?? 0) + 1);
      const list = this.idle.get(name) ?? [];
      this.idle.set(name, []);
      this.hooks.onChange?.(name, 0);
      n += list.length;
      await Promise.all(list.map((p) => this.hooks.destroy(p).catch(() => undefined)));
      await this.filling.get(name)?.catch(() => undefined);
    }
    return n;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.drain();
  }

  /** Every idle sandbox, for synchronous shutdown. */
  all(): PooledSandbox[] {
    return [...this.idle.values()].flat();
  }
}
