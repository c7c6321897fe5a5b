import type { Probe } from '../src/probe/types.js';
import { capacityProbes } from './capacity/index.js';
import { hostProbes } from './host/index.js';
import { lifecycleProbes } from './lifecycle/index.js';
import { sandboxProbes } from './sandbox/index.js';
import { storageProbes } from './storage/index.js';

/** Every implemented probe, by name. Each family folder exports its own list. */
export const ALL_PROBES: readonly Probe[] = [
  ...hostProbes,
  ...lifecycleProbes,
  ...sandboxProbes,
  ...capacityProbes,
  ...storageProbes,
];

export function probeByName(name: string): Probe | undefined {
  return ALL_PROBES.find((p) => p.name === name);
}
