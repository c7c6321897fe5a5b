import type { BindMount, PhaseRunner } from '../driver/types.js';

/** A template ready to start sandboxes from: a rootfs directory plus its declared resources. */
export interface ResolvedTemplate {
  name: string;
  /** Root filesystem directory, read-only (the overlay's lowest layer). */
  rootfs: string;
  /** Overlay lower layers, topmost first, when the template itself is layered (default: [rootfs]). */
  layers?: string[];
  cpuCount: number;
  memoryMb: number;
  /** The user commands run as when a request names none. */
  user: string;
  /** Host paths bound into the sandbox (only for host-derived development templates). */
  binds?: BindMount[];
  /** True when this call had to fetch it (a cold start). */
  cold: boolean;
  /** Called when the sandbox using this rootfs is gone (lets the cache delete evicted copies). */
  release?: () => void;
}

/**
 * Where templates come from. Implementations: the template store + node cache, and a host-derived
 * development template for tests.
 */
export interface TemplateProvider {
  /** Make the template available locally (fetch + mount if not cached) and take a reference. */
  ensure(name: string, phase?: PhaseRunner): Promise<ResolvedTemplate>;
  /** Whether the template is in the node cache now (a create would not be cold). */
  cached(name: string): Promise<boolean>;
  /** Drop the template (or all templates) from the node cache so the next start is cold. */
  evict(name?: string): Promise<void>;
  /** Template names this provider knows. */
  names(): Promise<string[]>;
  /** After the last sandbox is gone: waits until what the provider mounted for them is released. */
  close?(): Promise<void>;
  /** The same, synchronously, for exit paths. */
  closeSync?(): void;
}
