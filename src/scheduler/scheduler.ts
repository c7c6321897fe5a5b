import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { Pair } from '../dispatch/pairs.js';

export interface SchedulerOptions {
  jitterRatio: number;
  maxStartOffsetMs: number;
  random?: () => number;
  log?: (line: string) => void;
}

interface Job {
  pair: Pair;
  due: number;
  timer?: NodeJS.Timeout;
  removed: boolean;
}

export interface JobStatus {
  probe: string;
  target: string;
  intervalSeconds: number;
  nextRunAt: string;
  running: boolean;
  /** Set while the run waits for its turn on this machine (another run loads it). */
  waitingForMachineSince?: string;
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
 * Computes when each configured pair is due and hands it to the dispatcher then; admission
 * (overlap, slots, budget) is the dispatcher's. Reload swaps jobs without touching runs in progress.
 */
export class Scheduler {
  private jobs = new Map<string, Job>();
  private readonly random: () => number;
  private stopped = false;

  constructor(
    private readonly dispatcher: Dispatcher,
    private opts: SchedulerOptions,
  ) {
    this.random = opts.random ?? Math.random;
  }

  apply(pairs: Pair[], opts: Pick<SchedulerOptions, 'jitterRatio' | 'maxStartOffsetMs'>): void {
    this.opts = { ...this.opts, ...opts };
    const next = new Map<string, Job>();
    const now = Date.now();
    for (const pair of pairs) {
      const old = this.jobs.get(pair.key);
      if (old && old.pair.pc.intervalMs === pair.pc.intervalMs) {
        old.pair = pair;
        next.set(pair.key, old);
        continue;
      }
      if (old) clearTimeout(old.timer);
      // Probes that need nothing of the target (host probes) are quick: they take the first
      // seconds of the start window, the others the rest of it, so a new exporter shows host
      // results at once instead of queueing them behind minutes-long sandbox probes.
      const window = Math.min(pair.pc.intervalMs, this.opts.maxStartOffsetMs);
      const hostWindow = Math.min(5000, window);
      const offset = !pair.pc.probe.requires?.length
        ? startOffset(hostWindow, hostWindow, this.random())
        : hostWindow + startOffset(window - hostWindow, window - hostWindow, this.random());
      next.set(pair.key, { pair, due: now + offset, removed: false });
    }
    for (const [key, job] of this.jobs) {
      if (next.has(key)) continue;
      clearTimeout(job.timer);
      job.removed = true;
    }
    this.jobs = next;
    if (!this.stopped) for (const job of next.values()) if (!job.timer) this.arm(job);
  }

  private arm(job: Job): void {
    if (this.stopped || job.removed) return;
    const delay = Math.max(0, job.due - Date.now());
    job.timer = setTimeout(() => this.fire(job), delay);
    job.timer.unref?.();
  }

  private fire(job: Job): void {
    job.timer = undefined;
    const due = job.due;
    job.due = Math.max(nextDue(due, job.pair.pc.intervalMs, this.opts.jitterRatio, this.random()), Date.now());
    this.arm(job);
    this.dispatcher
      .dispatch({ pair: job.pair, trigger: 'schedule', dueAt: due })
      .then((a) => (a.kind === 'started' ? a.done : undefined))
      .catch((err: Error) => this.opts.log?.(`scheduler: ${job.pair.key}: ${err.message}`));
  }

  status(): JobStatus[] {
    return [...this.jobs.values()].map((j) => ({
      probe: j.pair.pc.probe.name,
      target: j.pair.target.name,
      intervalSeconds: j.pair.pc.intervalMs / 1000,
      nextRunAt: new Date(j.due).toISOString(),
      running: this.dispatcher.isPending(j.pair.key),
      waitingForMachineSince: this.dispatcher.waitingForMachineSince(j.pair.key),
    }));
  }

  stop(): void {
    this.stopped = true;
    for (const j of this.jobs.values()) clearTimeout(j.timer);
  }
}
