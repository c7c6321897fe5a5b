import type { TargetConfig } from '../config/schema.js';
import type { Probe } from '../probe/types.js';
import { sandboxesRunHere } from '../targets/capabilities.js';
import { waitInQueue } from './queue.js';

/**
 * How a run uses the machine this exporter runs on. `exclusive`: it loads a resource here (a host
 * benchmark, a sandbox benchmark or isolation's aggressors on a local runtime), so nothing else may
 * run here beside it; `shared`: it runs here without loading it (host facts, storage transfers,
 * lifecycle timings on a local runtime) and may overlap other shared runs, never an exclusive
 * one; `none`: its work happens elsewhere (sandbox probes on a remote target).
 */
export type MachineUse = 'exclusive' | 'shared' | 'none';

export function machineUse(probe: Probe, target: TargetConfig): MachineUse {
  if (probe.requires?.includes('sandbox') && !sandboxesRunHere(target)) return 'none';
  return probe.load?.length ? 'exclusive' : 'shared';
}

/**
 * A readers-writer lock on this machine: any number of shared holders or one exclusive one.
 * Waiters are served in arrival order, so a stream of shared runs cannot starve an exclusive one.
 * On two cores two benchmarks side by side measure each other; this keeps them apart.
 */
export class MachineLock {
  private exclusive = false;
  private shared = 0;
  private readonly waiters: { use: MachineUse; grant: () => void }[] = [];

  private fits(use: MachineUse): boolean {
    if (use === 'none') return true;
    if (this.exclusive) return false;
    return use === 'shared' || this.shared === 0;
  }

  private take(use: MachineUse): void {
    if (use === 'exclusive') this.exclusive = true;
    else if (use === 'shared') this.shared++;
  }

  /** Takes the lock if it is free for `use` and nobody is queued before; false otherwise. */
  tryAcquire(use: MachineUse): boolean {
    if (use !== 'none' && (this.waiters.length || !this.fits(use))) return false;
    this.take(use);
    return true;
  }

  acquire(use: MachineUse, signal?: AbortSignal): Promise<void> {
    if (this.tryAcquire(use)) return Promise.resolve();
    return waitInQueue(
      this.waiters,
      (grant) => ({ use, grant }),
      signal,
      () => this.pump(),
    );
  }

  release(use: MachineUse): void {
    if (use === 'exclusive') this.exclusive = false;
    else if (use === 'shared') this.shared--;
    this.pump();
  }

  private pump(): void {
    while (this.waiters.length && this.fits(this.waiters[0].use)) {
      const w = this.waiters.shift()!;
      this.take(w.use);
      w.grant();
    }
  }
}
