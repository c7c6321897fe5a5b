import { rm } from 'node:fs/promises';
import type { PhaseRunner } from '../driver/types.js';
import type { ResolvedTemplate, TemplateProvider } from '../core/templates.js';

/** A finished build's filesystem layer: what its steps changed, stacked on the parent's layers. */
export interface BuiltLayer {
  buildId: string;
  /** Directory holding the layer (deleted with it). */
  dir: string;
  /** The overlay lower layer itself (inside `dir`). */
  layerDir: string;
  parent: string;
  /** Default user of sandboxes (the last USER step), else the parent's. */
  user?: string;
  cpuCount?: number;
  memoryMb?: number;
  /** Sandboxes using the layer; it is deleted when it is replaced or deleted and nobody uses it. */
  refs: number;
  retired: boolean;
}

/** A template built through the template API: its names and its current (last ready) layer. */
export interface BuiltTemplate {
  templateId: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
  current?: BuiltLayer;
  spawnCount: number;
  lastSpawnedAt?: Date;
}

/**
 * The template provider sandboxes see: the runtime's own templates (store or host), plus the
 * templates built through the API, each a layer over its parent template's layers. Evicting or
 * checking the cache of a built template acts on its parent (the layer itself is always local).
 */
export class BuiltTemplates implements TemplateProvider {
  private readonly byId = new Map<string, BuiltTemplate>();

  constructor(readonly inner: TemplateProvider) {}

  /** By template id or name. */
  find(idOrName: string): BuiltTemplate | undefined {
    const direct = this.byId.get(idOrName);
    if (direct) return direct;
    for (const t of this.byId.values()) if (t.name === idOrName) return t;
    return undefined;
  }

  all(): BuiltTemplate[] {
    return [...this.byId.values()];
  }

  add(t: BuiltTemplate): void {
    this.byId.set(t.templateId, t);
  }

  /** Makes `layer` the template's current one; the previous layer goes once unused. */
  publish(t: BuiltTemplate, layer: BuiltLayer): void {
    const old = t.current;
    t.current = layer;
    t.updatedAt = new Date();
    if (old) this.retire(old);
  }

  /** Forgets the template: no new sandboxes; its layer is deleted once the last one using it is gone. */
  async remove(t: BuiltTemplate): Promise<void> {
    this.byId.delete(t.templateId);
    if (t.current) await this.retire(t.current);
    t.current = undefined;
  }

  /** Built templates whose parent is `t` (they would lose their lower layers). */
  children(t: BuiltTemplate): BuiltTemplate[] {
    return this.all().filter((c) => c.current && (c.current.parent === t.name || c.current.parent === t.templateId));
  }

  async names(): Promise<string[]> {
    const ready = this.all().filter((t) => t.current);
    return [...(await this.inner.names()), ...ready.flatMap((t) => [t.name, t.templateId])];
  }

  async cached(name: string): Promise<boolean> {
    const t = this.find(name);
    return t?.current ? this.cached(t.current.parent) : this.inner.cached(name);
  }

  async evict(name?: string): Promise<void> {
    const t = name === undefined ? undefined : this.find(name);
    return t?.current ? this.evict(t.current.parent) : this.inner.evict(name);
  }

  async ensure(name: string, phase?: PhaseRunner): Promise<ResolvedTemplate> {
    const t = this.find(name);
    const layer = t?.current;
    if (!t || !layer) return this.inner.ensure(name, phase);
    layer.refs++;
    let parent: ResolvedTemplate;
    try {
      parent = await this.ensure(layer.parent, phase);
    } catch (err) {
      this.unref(layer);
      throw err;
    }
    t.spawnCount++;
    t.lastSpawnedAt = new Date();
    let released = false;
    return {
      ...parent,
      name: t.name,
      layers: [layer.layerDir, ...(parent.layers ?? [parent.rootfs])],
      cpuCount: layer.cpuCount ?? parent.cpuCount,
      memoryMb: layer.memoryMb ?? parent.memoryMb,
      user: layer.user ?? parent.user,
      release: () => {
        if (released) return;
        released = true;
        parent.release?.();
        this.unref(layer);
      },
    };
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }

  closeSync(): void {
    this.inner.closeSync?.();
  }

  /** Forgets every built template (runtime shutdown; the owner deletes the layers' directory). */
  clear(): void {
    this.byId.clear();
  }

  private unref(layer: BuiltLayer): void {
    layer.refs--;
    if (layer.retired && layer.refs <= 0) void rm(layer.dir, { recursive: true, force: true }).catch(() => undefined);
  }

  private async retire(layer: BuiltLayer): Promise<void> {
    layer.retired = true;
    if (layer.refs <= 0) await rm(layer.dir, { recursive: true, force: true });
  }
}
