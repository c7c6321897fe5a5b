import type { BudgetConfig } from '../config/schema.js';

interface Usage {
  live: number;
  /** [endedAtMs, sandboxSeconds] of sandboxes killed, oldest first; trimmed to the last hour. */
  spent: [number, number][];
  /** Sum of the seconds in `spent`. */
  spentSeconds: number;
  /** startedAtMs of live sandboxes, so their elapsed time counts too. */
  started: Map<string, number>;
}

const HOUR = 3_600_000;

const newUsage = (): Usage => ({ live: 0, spent: [], spentSeconds: 0, started: new Map() });

/**
 * Caps on what benchmarking may spend: concurrent sandboxes and sandbox-minutes per rolling hour,
 * globally and per target. A create over budget is refused before it reaches the API.
 */
export class Budget {
  private readonly global: Usage = newUsage();
  private readonly perTarget = new Map<string, Usage>();

  constructor(
    private limits: BudgetConfig,
    private targetLimits: Map<string, Partial<BudgetConfig>> = new Map(),
    private readonly now: () => number = Date.now,
  ) {}

  configure(limits: BudgetConfig, targetLimits: Map<string, Partial<BudgetConfig>>): void {
    this.limits = limits;
    this.targetLimits = targetLimits;
  }

  private usage(target: string): Usage {
    let u = this.perTarget.get(target);
    if (!u) this.perTarget.set(target, (u = newUsage()));
    return u;
  }

  /** Called on every create and kill: constant work however many sandboxes the hour saw. */
  private minutes(u: Usage): number {
    const t = this.now();
    let old = 0;
    while (old < u.spent.length && t - u.spent[old][0] >= HOUR) u.spentSeconds -= u.spent[old++][1];
    if (old > 0) u.spent.splice(0, old);
    if (u.spent.length === 0) u.spentSeconds = 0; // no float drift once the hour is empty
    let s = u.spentSeconds;
    for (const start of u.started.values()) s += (t - start) / 1000;
    return s / 60;
  }

  /** Why a new sandbox may not start now, or undefined when it may. */
  refusal(target: string): string | undefined {
    const tl = this.targetLimits.get(target) ?? {};
    const u = this.usage(target);
    if (this.global.live >= this.limits.max_concurrent_sandboxes)
      return `global cap of ${this.limits.max_concurrent_sandboxes} concurrent sandboxes reached`;
    if (tl.max_concurrent_sandboxes !== undefined && u.live >= tl.max_concurrent_sandboxes)
      return `target cap of ${tl.max_concurrent_sandboxes} concurrent sandboxes reached`;
    if (this.minutes(this.global) >= this.limits.max_sandbox_minutes_per_hour)
      return `global budget of ${this.limits.max_sandbox_minutes_per_hour} sandbox-minutes per hour used up`;
    if (tl.max_sandbox_minutes_per_hour !== undefined && this.minutes(u) >= tl.max_sandbox_minutes_per_hour)
      return `target budget of ${tl.max_sandbox_minutes_per_hour} sandbox-minutes per hour used up`;
    return undefined;
  }

  /** Reserves a slot for a sandbox about to be created (before the API call: creates in flight count). */
  start(target: string, id: string): void {
    const t = this.now();
    for (const u of [this.global, this.usage(target)]) {
      u.live++;
      u.started.set(id, t);
    }
  }

  /** Re-keys a reservation once the sandbox id is known. */
  rename(target: string, from: string, to: string): void {
    for (const u of [this.global, this.usage(target)]) {
      const s = u.started.get(from);
      if (s !== undefined) {
        u.started.delete(from);
        u.started.set(to, s);
      }
    }
  }

  /** Ends a sandbox's lifetime; returns its lifetime in seconds. */
  end(target: string, id: string): number {
    const t = this.now();
    let seconds = 0;
    for (const u of [this.global, this.usage(target)]) {
      const s = u.started.get(id);
      if (s === undefined) continue;
      u.started.delete(id);
      u.live--;
      seconds = (t - s) / 1000;
      u.spent.push([t, seconds]);
      u.spentSeconds += seconds;
    }
    return seconds;
  }

  minutesUsed(target?: string): number {
    return this.minutes(target ? this.usage(target) : this.global);
  }
}
