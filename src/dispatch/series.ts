import type { Labels } from '../../exporters/prometheus/registry.js';
import type { RunTarget } from '../targets/machine.js';

/**
 * The labels every series of a run carries. A target's: its name and cloud. This machine's (host
 * probes): its host name and cloud, plus `target` only when a target declared `host: self`.
 */
export function targetLabels(t: RunTarget): Labels {
  const m = t.machine;
  if (!m) return { target: t.name, cloud_provider: t.cloud_provider, cloud_region: t.cloud_region };
  const labels: Labels = { host: m.host, cloud_provider: m.cloud_provider, cloud_region: m.cloud_region };
  if (t.host === 'self') labels.target = t.name;
  return labels;
}

/** Owner of the series one probe writes on one target: they go together when the pair is unconfigured. */
export const ownerKey = (probe: string, target: string) => `${probe}/${target}`;

/** Owner of the series written from a target's configuration (target info, prices). */
export const configOwner = (target: string) => `config/${target}`;
