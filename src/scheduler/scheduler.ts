import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { Pair } from '../dispatch/pairs.js';
import { startCron, type CronJob } from './cron.js';

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
  /** Set for a cron-scheduled pair: node-cron fires it, `due` is unused. */
  cron?: CronJob;
  removed: boolean;
}

/** What decides when a pair runs; a job is re-armed when it changes. */
const cadence = (p: Pair) =>
  p.pc.schedule ? `cron ${p.pc.schedule.cron} ${p.pc.schedule.timezone ?? ''}` : `every ${p.pc.intervalMs}`;

export interface JobStatus {
  probe: string;
  target: string;
  /** Absent for a cron-scheduled pair. */
  intervalSeconds?: number;
  /** The cron expression (and time zone) of a cron-scheduled pair. */
  schedule?: string;
  nextRunAt?: string;
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
 * Computes when each configured pair is due (an interval with jitter, or a cron schedule through
 * node-cron) and hands it to the dispatcher then; admission
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
      if (old && cadence(old.pair) === cadence(pair)) {
        old.pair = pair;
        next.set(pair.key, old);
        continue;
      }
      if (old) this.disarm(old);
      if (pair.pc.schedule) {
        next.set(pair.key, { pair, due: 0, removed: false });
        continue;
      }
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
      this.disarm(job);
      job.removed = true;
    }
    this.jobs = next;
    if (!this.stopped) for (const job of next.values()) if (!job.timer && !job.cron) this.arm(job);
  }

  private disarm(job: Job): void {
    clearTimeout(job.timer);
    job.cron?.stop();
    job.cron = undefined;
  }

  private arm(job: Job): void {
    if (this.stopped || job.removed) return;
    const schedule = job.pair.pc.schedule;
    if (schedule) {
      job.cron = startCron(schedule.cron, schedule.timezone, (due) => this.dispatch(job, due.getTime()));
      return;
    }
    const delay = Math.max(0, job.due - Date.now());
    job.timer = setTimeout(() => this.fire(job), delay);
    job.timer.unref?.();
  }

  private fire(job: Job): void {
    job.timer = undefined;
    const due = job.due;
    job.due = Math.max(nextDue(due, job.pair.pc.intervalMs, this.opts.jitterRatio, this.random()), Date.now());
    this.arm(job);
    this.dispatch(job, due);
  }

  private dispatch(job: Job, due: number): void {
    this.dispatcher
      .dispatch({ pair: job.pair, trigger: 'schedule', dueAt: due })
      .then((a) => (a.kind === 'started' ? a.done : undefined))
      .catch((err: Error) => this.opts.log?.(`scheduler: ${job.pair.key}: ${err.message}`));
  }

  status(): JobStatus[] {
    return [...this.jobs.values()].map((j) => ({
      probe: j.pair.pc.probe.name,
      target: j.pair.target.name,
      ...(j.pair.pc.schedule
        ? { schedule: cadence(j.pair).slice(5).trim(), nextRunAt: j.cron?.next()?.toISOString() }
        : { intervalSeconds: j.pair.pc.intervalMs / 1000, nextRunAt: new Date(j.due).toISOString() }),
      running: this.dispatcher.isPending(j.pair.key),
      waitingForMachineSince: this.dispatcher.waitingForMachineSince(j.pair.key),
    }));
  }

  stop(): void {
    this.stopped = true;
    for (const j of this.jobs.values()) this.disarm(j);
  }
}
