import type { Config } from '../config/load.js';
import type { LocalRuntimeConfig, TargetConfig } from '../config/schema.js';

interface RuntimeHandle {
  apiUrl: string;
  sandboxUrl: string;
  apiKey: string;
  adminToken: string;
  stop(): Promise<void>;
}

/** A target that should use the embedded runtime: local, with no connection of its own. */
export const wantsEmbedded = (t: TargetConfig) => t.cloud_provider === 'local' && !t.e2b;

/**
 * Starts the local E2B-compatible runtime inside the exporter when a target needs it, and fills
 * that target's connection in. Started once; later reloads reuse it.
 */
export class EmbeddedRuntime {
  private handle?: RuntimeHandle;
  private starting?: Promise<RuntimeHandle>;
  private startedWith?: string;

  constructor(private readonly log?: (line: string) => void) {}

  private async start(cfg: LocalRuntimeConfig): Promise<RuntimeHandle> {
    const { startLocalRuntime, optionsFromConfig } = await import('../local/index.js');
    const rt = await startLocalRuntime({ ...optionsFromConfig(cfg), log: this.log });
    this.log?.(`embedded local runtime: api ${rt.apiUrl}, sandboxes ${rt.sandboxUrl}, driver ${cfg.driver}`);
    return rt;
  }

  async resolve(cfg: Config): Promise<TargetConfig[]> {
    const needs = cfg.targets.some(wantsEmbedded);
    if (!needs) return cfg.targets;
    if (!cfg.raw.local_runtime.enabled)
      throw new Error('a local target without an e2b connection needs local_runtime.enabled: true');
    const key = JSON.stringify(cfg.raw.local_runtime);
    if (!this.starting) {
      this.startedWith = key;
      this.starting = this.start(cfg.raw.local_runtime);
    } else if (key !== this.startedWith) {
      this.log?.('local_runtime settings changed: they take effect after a restart of the exporter');
    }
    this.handle = await this.starting;
    const rt = this.handle;
    return cfg.targets.map((t) =>
      wantsEmbedded(t)
        ? {
            ...t,
            e2b: { api_url: rt.apiUrl, sandbox_url: rt.sandboxUrl, api_key: rt.apiKey, admin_token: rt.adminToken },
          }
        : t,
    );
  }

  async stop(): Promise<void> {
    const h = this.handle ?? (await this.starting?.catch(() => undefined));
    this.handle = undefined;
    this.starting = undefined;
    await h?.stop();
  }
}
