import { setMaxListeners } from 'node:events';
import type { MetricsRegistry } from '../../exporters/prometheus/registry.js';
import { writeConfigGauges, type ConfigGaugeSource } from '../app/config-metrics.js';
import type { Config } from '../config/load.js';
import type { TargetConfig } from '../config/schema.js';
import { ProbeError } from '../probe/reasons.js';
import type { Trigger } from '../probe/types.js';
import type { RunRecord } from '../results/run-record.js';
import type { Runner } from '../runner/runner.js';
import { ADMISSION, type Admission } from './admission.js';
import { configuredPairs, resolvePair, type Pair, type ResolveOptions, type Resolution } from './pairs.js';
import { configOwner, targetLabels } from './series.js';
import { MachineLock, machineUse, type MachineUse } from './machine.js';
import { Slots } from './slots.js';
import { machineIdentity, machineTarget, type RunTarget } from '../targets/machine.js';

export interface DispatcherDeps {
  runner: Runner;
  metrics: MetricsRegistry;
  /** Why a new sandbox may not start on this target now (sandbox budget), or undefined. */
  budgetRefusal?: (target: string) => string | undefined;
  /** Gauges written from each target's configuration (pricing). */
  configGauges?: ConfigGaugeSource[];
  log?: (line: string) => void;
}

export interface DispatchRequest {
  pair: Pair;
  trigger: Trigger;
  samples?: number;
  /** When the scheduler wanted the run to start; the wait until it does is published as lag. */
  dueAt?: number;
}

/**
 * The one way a run starts, for the scheduler, `POST /probe` and the CLI alike. Resolves
 * (probe, target), admits runs (one at a time per pair, global and per-target slots, the sandbox
 * budget, exclusive use of this machine for runs that load it) and answers with a typed
 * {@link Admission}. Owns the series of every pair: written while
 * it is configured, removed when a reload drops it (after a run still going has ended).
 */
export class Dispatcher {
  private readonly slots = new Slots(1);
  private readonly machine = new MachineLock();
  private exclusiveLoad = true;
  private readonly stopAc = new AbortController();
  private cfg?: Config;
  private targetList: TargetConfig[] = [];
  private machineRun?: RunTarget;
  private configured = new Map<string, Pair>();
  /** Pairs admitted and not yet finished (waiting for a slot or running). */
  private readonly pending = new Set<string>();
  /** Pairs waiting for their turn on this machine, and since when. */
  private readonly machineWait = new Map<string, number>();
  /** Pending pairs a reload dropped: their series go when the run ends. */
  private readonly orphaned = new Set<string>();

  constructor(private readonly deps: DispatcherDeps) {
    // Every waiting and running run listens on the stop signal: many listeners are expected.
    setMaxListeners(0, this.stopAc.signal);
  }

  /** Applies a (re)loaded config: slots, configured pairs, and the series that come and go with them. */
  /** `machine`: where host probes run (default: this machine as configured, without metadata). */
  configure(
    cfg: Config,
    targets: TargetConfig[],
    machine: RunTarget = machineTarget(machineIdentity(cfg.raw.server.host, targets), targets),
  ): void {
    const { metrics } = this.deps;
    this.slots.setGlobalCap(cfg.raw.scheduler.max_concurrent_runs);
    this.exclusiveLoad = cfg.raw.scheduler.exclusive_load;
    for (const t of this.targetList)
      if (!targets.some((n) => n.name === t.name)) {
        metrics.removeOwner(configOwner(t.name));
        metrics.removeMatching({ target: t.name });
      }
    const next = new Map(configuredPairs(cfg, targets, machine).map((p) => [p.key, p]));
    for (const key of this.configured.keys()) {
      if (next.has(key)) continue;
      if (this.pending.has(key)) this.orphaned.add(key);
      else metrics.removeOwner(key);
    }
    for (const key of next.keys()) this.orphaned.delete(key);
    this.cfg = cfg;
    this.targetList = targets;
    this.machineRun = machine;
    this.configured = next;
    writeConfigGauges(metrics, targets, this.deps.configGauges, machine);
    for (const p of next.values())
      if (!p.pc.schedule)
        metrics.set(
          'e2bbench_probe_interval_seconds',
          { ...targetLabels(p.target), probe: p.pc.probe.name },
          p.pc.intervalMs / 1000,
          p.key,
        );
  }

  /** Configured pairs, in target then probe order. */
  pairs(): Pair[] {
    return [...this.configured.values()];
  }

  targets(): TargetConfig[] {
    return this.targetList;
  }

  /** Where host probes run: this machine, under the `host: self` target if one is declared. */
  hostTarget(): RunTarget | undefined {
    return this.machineRun;
  }

  resolve(probe: string, target: string | undefined, opts?: ResolveOptions): Resolution {
    if (!this.cfg) throw new Error('dispatcher used before configure()');
    return resolvePair(this.cfg, this.targetList, this.machineRun!, probe, target, opts);
  }

  /** Whether a run of this pair is admitted and not finished (waiting for a slot or running). */
  isPending(key: string): boolean {
    return this.pending.has(key);
  }

  /** When a pending run of this pair started to wait for this machine (ISO time), if it is waiting. */
  waitingForMachineSince(key: string): string | undefined {
    const t = this.machineWait.get(key);
    return t === undefined ? undefined : new Date(t).toISOString();
  }

  async dispatch(req: DispatchRequest): Promise<Admission> {
    const { pair, trigger } = req;
    const { metrics } = this.deps;
    const policy = ADMISSION[trigger];
    const { target } = pair;
    const labels = { ...targetLabels(target), probe: pair.pc.probe.name };
    const retryAfterSeconds = Math.max(1, Math.ceil(pair.pc.timeoutMs / 1000));
    if (this.stopAc.signal.aborted) return { kind: 'skipped', reason: 'not_configured', message: 'exporter stopping' };

    if (this.pending.has(pair.key)) {
      const message = `${pair.pc.probe.name} is already running on ${target.name}`;
      if (policy.overlap === 'busy') return { kind: 'busy', reason: 'overlap', message, retryAfterSeconds };
      metrics.inc('e2bbench_probe_skipped_total', { ...labels, reason: 'overlap' }, 1, pair.key);
      return { kind: 'skipped', reason: 'overlap', message };
    }

    this.pending.add(pair.key);
    let admitted = false;
    try {
      if (!policy.wait) {
        if (!this.slots.tryAcquire(target.name, target.max_concurrent_runs))
          return {
            kind: 'busy',
            reason: 'concurrency',
            message: 'concurrency cap reached; try again later',
            retryAfterSeconds,
          };
      } else {
        try {
          await this.slots.acquire(target.name, target.max_concurrent_runs, this.stopAc.signal);
        } catch {
          return { kind: 'skipped', reason: 'not_configured', message: 'exporter stopping' };
        }
      }
      let current = pair;
      // A scheduled run that waited runs with the config of now, or not at all if a reload dropped it.
      if (trigger === 'schedule') {
        const now = this.configured.get(pair.key);
        if (!now || this.stopAc.signal.aborted) {
          this.slots.release(target.name);
          return { kind: 'skipped', reason: 'not_configured', message: `${pair.key} is no longer configured` };
        }
        current = now;
      }
      const refusal = current.pc.probe.requires?.includes('sandbox')
        ? this.deps.budgetRefusal?.(target.name)
        : undefined;
      if (refusal) {
        this.slots.release(target.name);
        metrics.inc('e2bbench_probe_skipped_total', { ...labels, reason: 'budget' }, 1, pair.key);
        return { kind: 'skipped', reason: 'budget', message: `${target.name}: ${refusal}` };
      }
      const use: MachineUse = this.exclusiveLoad ? machineUse(current.pc.probe, target) : 'none';
      const waitStart = performance.now();
      if (!policy.wait) {
        if (!this.machine.tryAcquire(use)) {
          this.slots.release(target.name);
          const message = `${use === 'exclusive' ? 'this probe needs' : 'a run that loads'} this machine alone; try again later`;
          return { kind: 'busy', reason: 'machine', message, retryAfterSeconds };
        }
      } else {
        this.machineWait.set(pair.key, Date.now());
        try {
          await this.machine.acquire(use, this.stopAc.signal);
        } catch {
          this.slots.release(target.name);
          return { kind: 'skipped', reason: 'not_configured', message: 'exporter stopping' };
        } finally {
          this.machineWait.delete(pair.key);
        }
      }
      const machine = { use, waitedSeconds: (performance.now() - waitStart) / 1000 };
      if (req.dueAt !== undefined)
        metrics.set(
          'e2bbench_scheduler_lag_seconds',
          { probe: pair.pc.probe.name, target: target.name },
          Math.max(0, Date.now() - req.dueAt) / 1000,
          pair.key,
        );
      admitted = true;
      return { kind: 'started', done: this.execute(current, req, machine) };
    } finally {
      if (!admitted) this.pending.delete(pair.key);
    }
  }

  private async execute(
    pair: Pair,
    req: DispatchRequest,
    machine: { use: MachineUse; waitedSeconds: number },
  ): Promise<RunRecord> {
    try {
      return await this.deps.runner.run(pair.pc, pair.target, {
        trigger: req.trigger,
        samples: req.samples,
        signal: this.stopAc.signal,
        machine: machine.use === 'none' ? undefined : { use: machine.use, waitedSeconds: machine.waitedSeconds },
      });
    } finally {
      this.machine.release(machine.use);
      this.slots.release(pair.target.name);
      this.pending.delete(pair.key);
      if (this.orphaned.delete(pair.key)) this.deps.metrics.removeOwner(pair.key);
    }
  }

  /** Refuses new runs, stops waiting ones and aborts running ones (their cleanup still runs). */
  stop(): void {
    this.stopAc.abort(new ProbeError('internal', 'exporter shutting down'));
    this.deps.runner.abortAll('exporter shutting down');
  }
}
