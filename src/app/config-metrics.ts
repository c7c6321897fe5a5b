import type { MetricsRegistry } from '../../exporters/prometheus/registry.js';
import type { TargetConfig } from '../config/schema.js';
import { configOwner, targetLabels } from '../dispatch/series.js';

export type ConfigGaugeSource = (t: TargetConfig) => { name: string; labels: Record<string, string>; value: number }[];

/** Gauges that come from configuration, not measurement: target facts and extra sources (pricing). */
export function writeConfigGauges(
  metrics: MetricsRegistry,
  targets: TargetConfig[],
  extra: ConfigGaugeSource[] = [],
): void {
  for (const t of targets) {
    const owner = configOwner(t.name);
    metrics.removeOwner(owner);
    const tl = targetLabels(t);
    const connection = t.e2b?.api_url ? 'api_url' : t.e2b?.domain ? 'domain' : 'embedded';
    metrics.set('e2bbench_target_info', { ...tl, template: t.template, connection }, 1, owner);
    for (const source of extra)
      for (const s of source(t)) metrics.set(s.name as never, { ...tl, ...s.labels }, s.value, owner);
  }
}
