import type { TargetConfig } from '../../src/config/schema.js';
import { ProbeError, ProbeSkip } from '../../src/probe/reasons.js';
import type { ProbeContext } from '../../src/probe/types.js';
import type { TargetServices } from '../../src/targets/services.js';

export type ColdStrategy = 'nomad-restart' | 'local-evict' | 'fresh-template' | 'none';
export type RealColdStrategy = Exclude<ColdStrategy, 'none'>;

/** The target's strategy: configured, else local-evict on the local runtime, nomad-restart with Nomad, else none. */
export function strategyOf(t: TargetConfig, services: TargetServices): ColdStrategy {
  if (t.cold_start_strategy) return t.cold_start_strategy;
  if (t.cloud_provider === 'local') return 'local-evict';
  if (services.nomad) return 'nomad-restart';
  return 'none';
}

/**
 * The strategy that really makes the cache cold, or a skip: a plain create on a target that cannot
 * reset its cache is a warm (or unknown) start, and publishing it as cold would mislabel it.
 */
export function coldStrategyOf(ctx: ProbeContext<unknown>, freshTemplates: readonly string[]): RealColdStrategy {
  const t = ctx.target;
  const s = strategyOf(t, ctx.services);
  if (s === 'none')
    throw new ProbeSkip(
      'unsupported',
      `${t.name}: no way to make the template cache cold; set cold_start_strategy (nomad-restart with targets[].nomad, or fresh-template with the probe option fresh_templates)`,
    );
  if (s === 'fresh-template' && !freshTemplates.length)
    throw new ProbeSkip(
      'not_configured',
      `${t.name}: cold_start_strategy fresh-template needs the probe option fresh_templates (a list of template names)`,
    );
  return s;
}

/**
 * Makes the target's template cache cold before a sample. Returns the template to create from
 * (fresh-template rotates through the configured list, so each is as long out of cache as can be).
 */
export async function makeCold(
  ctx: ProbeContext<unknown>,
  strategy: RealColdStrategy,
  sample: number,
  templates: readonly string[],
): Promise<string> {
  const { target: t, services, signal } = ctx;
  switch (strategy) {
    case 'local-evict':
      if (!services.admin) throw new ProbeError('api_error', `${t.name}: no api_url for local-evict`);
      await services.admin.evictTemplate(t.template, signal);
      return t.template;
    case 'nomad-restart': {
      const n = services.nomad;
      if (!n) throw new ProbeError('api_error', `${t.name}: nomad-restart needs targets[].nomad`);
      await n.client.restartJob(n.job, { timeoutMs: n.healthyTimeoutMs, signal });
      return t.template;
    }
    case 'fresh-template':
      return templates[sample % templates.length];
  }
}
