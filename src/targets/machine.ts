import { hostname } from 'node:os';
import type { Config } from '../config/load.js';
import type { HostConfig, TargetConfig } from '../config/schema.js';
import { readMetadata, type MetadataFacts } from './metadata.js';

/** The machine this exporter runs on: what host probes measure and how their series are labelled. */
export interface MachineIdentity {
  host: string;
  cloud_provider: string;
  cloud_region: string;
  instance_type: string;
  /** Where the cloud facts came from: config, metadata, the `host: self` target, or nowhere. */
  source: 'config' | 'metadata' | 'target' | 'unknown';
}

/**
 * What one run measures: a target, or this machine (host probes). A machine run keeps the fields of
 * the `host: self` target when one is declared (its slot, its name in run records), but its labels
 * come from `machine`, never from a target's cloud.
 */
export type RunTarget = TargetConfig & { machine?: MachineIdentity };

export const selfTarget = (targets: readonly TargetConfig[]) => targets.find((t) => t.host === 'self');

/**
 * Identity from configuration: `server.host` first, then what the metadata service said, then the
 * cloud of the target declared `host: self` (the user said this machine is one of its nodes).
 */
export function machineIdentity(
  host: HostConfig,
  targets: readonly TargetConfig[],
  facts?: MetadataFacts,
): MachineIdentity {
  const self = selfTarget(targets);
  const pick = (key: 'cloud_provider' | 'cloud_region' | 'instance_type') => {
    const fromSelf = key === 'instance_type' ? self?.pricing?.instance_type : self?.[key];
    if (host[key]) return { value: host[key], source: 'config' as const };
    if (facts?.[key]) return { value: facts[key], source: 'metadata' as const };
    if (fromSelf && fromSelf !== 'unknown') return { value: fromSelf, source: 'target' as const };
    return { value: 'unknown', source: 'unknown' as const };
  };
  const fields = {
    cloud_provider: pick('cloud_provider'),
    cloud_region: pick('cloud_region'),
    instance_type: pick('instance_type'),
  };
  const sources = new Set(Object.values(fields).map((f) => f.source));
  const source = (['config', 'metadata', 'target'] as const).find((s) => sources.has(s)) ?? 'unknown';
  return {
    host: host.name ?? hostname(),
    cloud_provider: fields.cloud_provider.value,
    cloud_region: fields.cloud_region.value,
    instance_type: fields.instance_type.value,
    source,
  };
}

/** machineIdentity, after asking the metadata service when configured; a silent one is logged, not fatal. */
export async function detectMachine(cfg: Config, log?: (line: string) => void): Promise<MachineIdentity> {
  const host = cfg.raw.server.host;
  let facts: MetadataFacts | undefined;
  if (host.metadata) {
    try {
      facts = await readMetadata(host.metadata);
    } catch (err) {
      log?.(
        `server.host.metadata: no answer from the ${host.metadata.kind} metadata service (${(err as Error).message})`,
      );
    }
  }
  return machineIdentity(host, cfg.targets, facts);
}

/** The run target of host probes: this machine, under the `host: self` target when one is declared. */
export function machineTarget(machine: MachineIdentity, targets: readonly TargetConfig[]): RunTarget {
  const self = selfTarget(targets);
  if (self) return { ...self, machine };
  // No target holds this machine: the run is named after the host and has a slot of its own.
  return {
    name: machine.host,
    cloud_provider: 'local',
    cloud_region: machine.cloud_region,
    template: 'base',
    max_concurrent_runs: 1,
    machine,
  };
}
