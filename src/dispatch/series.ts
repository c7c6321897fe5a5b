import type { Labels } from '../../exporters/prometheus/registry.js';
import type { TargetConfig } from '../config/schema.js';

/** The labels every series of a target carries. */
export function targetLabels(t: TargetConfig): Labels {
  return { target: t.name, cloud_provider: t.cloud_provider, cloud_region: t.cloud_region };
}

/** Owner of the series one probe writes on one target: they go together when the pair is unconfigured. */
export const ownerKey = (probe: string, target: string) => `${probe}/${target}`;

/** Owner of the series written from a target's configuration (target info, prices). */
export const configOwner = (target: string) => `config/${target}`;
