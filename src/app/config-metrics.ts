import type { MetricsRegistry } from '../../exporters/prometheus/registry.js';
import type { TargetConfig } from '../config/schema.js';
import { configOwner, targetLabels } from '../dispatch/series.js';
import type { RunTarget } from '../targets/machine.js';

const MACHINE_OWNER = 'config/@machine';

export type ConfigGaugeSource = (t: TargetConfig) => { name: string; labels: Record<string, string>; value: number }[];

/**
 * Gauges that come from configuration, not measurement: target facts, extra sources (pricing) and
 * the identity of the machine host probes measure.
 */
export function writeConfigGauges(
  metrics: MetricsRegistry,
  targets: TargetConfig[],
  extra: ConfigGaugeSource[] = [],
  machine?: RunTarget,
): void {
  if (machine?.machine) {
    metrics.removeOwner(MACHINE_OWNER);
    const { instance_type, source } = machine.machine;
    metrics.set('e2bbench_machine_info', { ...targetLabels(machine), instance_type, source }, 1, MACHINE_OWNER);
  }
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
