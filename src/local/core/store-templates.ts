import type { PhaseRunner } from '../driver/types.js';
import { TemplateProvider as NodeCache, type TemplateProviderOptions } from '../template/index.js';
import type { ResolvedTemplate, TemplateProvider } from './templates.js';

const PHASE_NAMES = { fetch: 'template_fetch', unpack: 'unpack', wait: 'template_wait' } as const;

/** Templates from the template store through the node cache (the built local template). */
export class StoreTemplateProvider implements TemplateProvider {
  readonly cache: NodeCache;

  constructor(opts: TemplateProviderOptions | NodeCache = {}) {
    this.cache = opts instanceof NodeCache ? opts : new NodeCache(opts);
  }

  /** True when the store holds a built rootfs for the current recipe. */
  async available(): Promise<boolean> {
    try {
      const recipe = await this.cache.recipe();
      return await this.cache.store.has(`${recipe.rootfsKey}.tar.zst`);
    } catch {
      return false;
    }
  }

  async names(): Promise<string[]> {
    return (await this.cache.list()).map((t) => t.name);
  }

  cached(name: string): Promise<boolean> {
    return this.cache.isCached(name);
  }

  async evict(name?: string): Promise<void> {
    await this.cache.evict(name);
  }

  async ensure(name: string, phase?: PhaseRunner): Promise<ResolvedTemplate> {
    const t = await this.cache.ensure(name, {
      onPhase: (e) => phase?.record?.(PHASE_NAMES[e.name], e.startTime, e.endTime),
    });
    return {
      name,
      rootfs: t.rootfs,
      layers: t.layers,
      cpuCount: t.cpuCount,
      memoryMb: t.memoryMb,
      user: t.user,
      cold: t.cold,
      release: () => void t.release().catch(() => undefined),
    };
  }
}
