import type { TargetConfig } from '../../src/config/schema.js';
import { ProbeError, ProbeSkip } from '../../src/probe/reasons.js';
import { apiUrlOf } from '../../src/targets/connection.js';
import { NomadClient } from '../../src/targets/nomad.js';

export type ColdStrategy = 'nomad-restart' | 'local-evict' | 'fresh-template' | 'none';
export type RealColdStrategy = Exclude<ColdStrategy, 'none'>;

/** The target's strategy: configured, else local-evict on the local runtime, nomad-restart with Nomad, else none. */
export function strategyOf(t: TargetConfig): ColdStrategy {
  if (t.cold_start_strategy) return t.cold_start_strategy;
  if (t.cloud_provider === 'local') return 'local-evict';
  if (t.nomad) return 'nomad-restart';
  return 'none';
}

/**
 * The strategy that really makes the cache cold, or a skip: a plain create on a target that cannot
 * reset its cache is a warm (or unknown) start, and publishing it as cold would mislabel it.
 */
export function coldStrategyOf(t: TargetConfig, freshTemplates: readonly string[]): RealColdStrategy {
  const s = strategyOf(t);
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

/** Local runtime admin call: drop the template from the node cache so the next create fetches and mounts it. */
export async function localEvict(t: TargetConfig, template: string, signal?: AbortSignal): Promise<void> {
  const base = apiUrlOf(t);
  if (!base) throw new ProbeError('api_error', `${t.name}: no api_url for local-evict`);
  const res = await fetch(`${base.replace(/\/$/, '')}/admin/templates/${encodeURIComponent(template)}/evict`, {
    method: 'POST',
    headers: t.e2b?.admin_token ? { authorization: `Bearer ${t.e2b.admin_token}` } : {},
    signal,
  });
  if (!res.ok) {
    const reason = res.status === 401 || res.status === 403 ? 'auth' : 'api_error';
    throw new ProbeError(
      reason,
      `${t.name}: template cache eviction failed: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`,
    );
  }
}

/**
 * Makes the target's template cache cold before a sample. Returns the template to create from
 * (fresh-template rotates through the configured list, so each is as long out of cache as can be).
 */
export async function makeCold(
  t: TargetConfig,
  strategy: RealColdStrategy,
  sample: number,
  opts: { templates: string[]; signal: AbortSignal },
): Promise<string> {
  switch (strategy) {
    case 'local-evict':
      await localEvict(t, t.template, opts.signal);
      return t.template;
    case 'nomad-restart': {
      const n = t.nomad;
      if (!n) throw new ProbeError('api_error', `${t.name}: nomad-restart needs targets[].nomad`);
      await new NomadClient({ addr: n.addr, token: n.token, namespace: n.namespace, region: n.region }).restartJob(
        n.job,
        {
          timeoutMs: n.healthy_timeout,
          signal: opts.signal,
        },
      );
      return t.template;
    }
    case 'fresh-template':
      return opts.templates[sample % opts.templates.length];
  }
}
