import type { TargetConfig } from '../../src/config/schema.js';
import { ProbeError } from '../../src/probe/reasons.js';
import { apiUrlOf } from '../../src/targets/connection.js';
import { NomadClient } from '../../src/targets/nomad.js';

export type ColdStrategy = 'nomad-restart' | 'local-evict' | 'fresh-template' | 'none';

/** The target's strategy: configured, else local-evict on the local runtime, nomad-restart with Nomad, else none. */
export function strategyOf(t: TargetConfig): ColdStrategy {
  if (t.cold_start_strategy) return t.cold_start_strategy;
  if (t.cloud_provider === 'local') return 'local-evict';
  if (t.nomad) return 'nomad-restart';
  return 'none';
}

/** Local runtime admin call: drop the template from the node cache so the next create fetches and unpacks it. */
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
  strategy: ColdStrategy,
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
    case 'fresh-template': {
      if (!opts.templates.length)
        throw new ProbeError(
          'api_error',
          `${t.name}: fresh-template needs probe option fresh_templates (a list of template names)`,
        );
      return opts.templates[sample % opts.templates.length];
    }
    case 'none':
      return t.template;
  }
}
