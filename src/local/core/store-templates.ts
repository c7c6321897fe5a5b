import type { PhaseRunner } from '../driver/types.js';
import { NodeTemplateCache, type NodeTemplateCacheOptions } from '../template/index.js';
import type { ResolvedTemplate, TemplateProvider } from './templates.js';

const PHASE_NAMES = {
  fetch: 'template_fetch',
  unpack: 'unpack',
  mount: 'template_mount',
  wait: 'template_wait',
} as const;

/** Templates from the template store through the node cache (the built local template). */
export class StoreTemplateProvider implements TemplateProvider {
  readonly cache: NodeTemplateCache;
  /** Releases in flight (they unmount images), awaited before eviction and by close(). */
  private readonly releasing = new Set<Promise<void>>();

  constructor(opts: NodeTemplateCacheOptions | NodeTemplateCache = {}) {
    this.cache = opts instanceof NodeTemplateCache ? opts : new NodeTemplateCache(opts);
  }

  /** True when the store holds the current recipe's rootfs (an image, or an older archive to convert). */
  available(): Promise<boolean> {
    return this.cache.isBuilt();
  }

  async names(): Promise<string[]> {
    return (await this.cache.list()).map((t) => t.name);
  }

  cached(name: string): Promise<boolean> {
    return this.cache.isCached(name);
  }

  async evict(name?: string): Promise<void> {
    await this.settle();
    await this.cache.evict(name);
  }

  async ensure(name: string, phase?: PhaseRunner): Promise<ResolvedTemplate> {
    const t = await this.cache.ensure(name, {
      onPhase: (e) =>
        phase?.record?.(PHASE_NAMES[e.name], e.startTime, e.endTime, e.path ? { 'e2blocal.rootfs_path': e.path } : {}),
    });
    return {
      name,
      rootfs: t.rootfs,
      layers: t.layers,
      cpuCount: t.cpuCount,
      memoryMb: t.memoryMb,
      user: t.user,
      cold: t.cold,
      release: () => {
        const p = t.release().catch(() => undefined);
        this.releasing.add(p);
        void p.finally(() => this.releasing.delete(p));
      },
    };
  }

  /** Waits for releases in flight, so the images nobody uses are unmounted when it resolves. */
  async close(): Promise<void> {
    await this.settle();
  }

  closeSync(): void {
    this.cache.releaseAllSync();
  }

  private async settle(): Promise<void> {
    while (this.releasing.size) await Promise.all([...this.releasing]);
  }
}
