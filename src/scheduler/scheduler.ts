import { setMaxListeners } from 'node:events';
import type { MetricsRegistry } from '../../exporters/prometheus/registry.js';
import { probeAppliesTo, type Config, type ProbeConfig } from '../config/load.js';
import type { TargetConfig } from '../config/schema.js';
import { ProbeError } from '../probe/reasons.js';
import { ownerKey, targetLabels, type Runner } from '../runner/runner.js';
import { Slots } from './slots.js';

export interface SchedulerOptions {
  maxConcurrentRuns: number;
  jitterRatio: number;
  maxStartOffsetMs: number;
  random?: () => number;
  log?: (line: string) => void;
}

interface Job {
  key: string;
  pc: ProbeConfig;
  target: TargetConfig;
  due: number;
  timer?: NodeJS.Timeout;
  waiting: boolean;
  removed: boolean;
}

export interface JobStatus {
  probe: string;
  target: string;
  intervalSeconds: number;
  nextRunAt: string;
  running: boolean;
}

/** First run: a random offset in [0, min(interval, maxStartOffset)) so probes do not all start together. */
export function startOffset(intervalMs: number, maxOffsetMs: number, r: number): number {
  return Math.floor(r * Math.min(intervalMs, maxOffsetMs));
}

/** Next due time: one interval later, ± jitterRatio × interval. */
export function nextDue(prevDue: number, intervalMs: number, jitterRatio: number, r: number): number {
  return prevDue + intervalMs + (2 * r - 1) * jitterRatio * intervalMs;
}

/**
 * Runs every enabled probe × target on its interval. Never two runs of one job at once (a run
 * still going when the next is due makes that one a skipped "overlap"); runs wait for a global and
 * a per-target slot. Reload swaps jobs without touching runs in progress.
 */
export class Scheduler {
  private jobs = new Map<string, Job>();
  private readonly slots: Slots;
  private readonly random: () => number;
  private stopped = false;
  private readonly stopAc = new AbortController();

  constructor(
    private readonly runner: Runner,
    private readonly metrics: MetricsRegistry,
    private opts: SchedulerOptions,
  ) {
    this.slots = new Slots(opts.maxConcurrentRuns);
    // Every waiting and running job listens on the stop signal: many listeners are expected.
    setMaxListeners(0, this.stopAc.signal);
    this.random = opts.random ?? Math.random;
  }

  get runSignal(): AbortSignal {
    return this.stopAc.signal;
  }

  apply(config: Config): void {
    this.opts = {
      ...this.opts,
      maxConcurrentRuns: config.raw.scheduler.max_concurrent_runs,
      jitterRatio: config.raw.scheduler.jitter_ratio,
      maxStartOffsetMs: config.raw.scheduler.max_start_offset,
    };
    this.slots.setGlobalCap(this.opts.maxConcurrentRuns);
    const next = new Map<string, Job>();
    const now = Date.now();
    for (const t of config.targets) {
      for (const pc of config.probes.values()) {
        if (!probeAppliesTo(pc, t)) continue;
        const key = ownerKey(pc.probe.name, t.name);
        const old = this.jobs.get(key);
        if (old && old.pc.intervalMs === pc.intervalMs) {
          old.pc = pc;
          old.target = t;
          next.set(key, old);
          continue;
        }
        if (old) clearTimeout(old.timer);
        // Host probes need no sandbox and are quick: they take the first seconds of the start
        // window, the others the rest of it, so a new exporter shows host results at once
        // instead of queueing them behind minutes-long sandbox probes.
        const window = Math.min(pc.intervalMs, this.opts.maxStartOffsetMs);
        const hostWindow = Math.min(5000, window);
        const offset =
          pc.probe.family === 'host'
            ? startOffset(hostWindow, hostWindow, this.random())
            : hostWindow + startOffset(window - hostWindow, window - hostWindow, this.random());
        const job: Job = {
          key,
          pc,
          target: t,
          due: now + offset,
          waiting: old?.waiting ?? false,
          removed: false,
        };
        next.set(key, job);
      }
    }
    for (const [key, job] of this.jobs) {
      if (next.has(key)) continue;
      clearTimeout(job.timer);
      job.removed = true;
      // A run in progress finishes; its series go when it ends (see fire()).
      if (!this.runner.isRunning(job.pc.probe.name, job.target.name)) this.metrics.removeOwner(key);
    }
    this.jobs = next;
    for (const job of next.values())
      this.metrics.set(
        'e2bbench_probe_interval_seconds',
        { ...targetLabels(job.target), probe: job.pc.probe.name },
        job.pc.intervalMs / 1000,
        job.key,
      );
    if (!this.stopped) for (const job of next.values()) if (!job.timer) this.arm(job);
  }

  private arm(job: Job): void {
    if (this.stopped || job.removed) return;
    const delay = Math.max(0, job.due - Date.now());
    job.timer = setTimeout(() => void this.fire(job), delay);
    job.timer.unref?.();
  }

  private async fire(job: Job): Promise<void> {
    job.timer = undefined;
    const due = job.due;
    job.due = Math.max(nextDue(due, job.pc.intervalMs, this.opts.jitterRatio, this.random()), Date.now());
    this.arm(job);
    const { pc, target } = job;
    const pl = { ...targetLabels(target), probe: pc.probe.name };
    if (job.waiting || this.runner.isRunning(pc.probe.name, target.name)) {
      this.metrics.inc('e2bbench_probe_skipped_total', { ...pl, reason: 'overlap' }, 1, job.key);
      return;
    }
    job.waiting = true;
    try {
      await this.slots.acquire(target.name, target.max_concurrent_runs, this.stopAc.signal);
    } catch {
      job.waiting = false;
      return;
    }
    job.waiting = false;
    try {
      if (this.stopped || job.removed) return;
      this.metrics.set(
        'e2bbench_scheduler_lag_seconds',
        { probe: pc.probe.name, target: target.name },
        Math.max(0, Date.now() - due) / 1000,
        job.key,
      );
      await this.runner.run(pc, target, { trigger: 'schedule', signal: this.stopAc.signal });
    } catch (err) {
      this.opts.log?.(`scheduler: ${job.key}: ${(err as Error).message}`);
    } finally {
      this.slots.release(target.name);
      // Only when no job of the same key came back in a later reload: its series are the same ones.
      if (job.removed && !this.jobs.has(job.key)) this.metrics.removeOwner(job.key);
    }
  }

  /** Claims a slot for an on-demand run without waiting; false when caps are reached. */
  tryClaim(target: TargetConfig): boolean {
    return this.slots.tryAcquire(target.name, target.max_concurrent_runs);
  }

  releaseClaim(target: TargetConfig): void {
    this.slots.release(target.name);
  }

  status(): JobStatus[] {
    return [...this.jobs.values()].map((j) => ({
      probe: j.pc.probe.name,
      target: j.target.name,
      intervalSeconds: j.pc.intervalMs / 1000,
      nextRunAt: new Date(j.due).toISOString(),
      running: this.runner.isRunning(j.pc.probe.name, j.target.name),
    }));
  }

  stop(): void {
    this.stopped = true;
    for (const j of this.jobs.values()) clearTimeout(j.timer);
    this.stopAc.abort(new ProbeError('internal', 'exporter shutting down'));
  }
}
