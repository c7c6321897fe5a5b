import type { Cgroups } from './cgroup.js';

export interface GvisorDriverOptions {
  dataDir: string;
  cgroups?: Cgroups;
}

/** Placeholder until the runsc driver lands. */
export class GvisorDriver {
  constructor(_opts: GvisorDriverOptions) {
    throw new Error('the gvisor driver is not implemented yet');
  }
}
