import { Sandbox } from 'e2b';
import type { MetricsRegistry } from '../../exporters/prometheus/registry.js';
import { ProbeSkip } from '../probe/reasons.js';
import type { CreateSandboxOptions, SandboxBroker } from '../probe/sandboxes.js';
import type { RunInfo } from '../runner/runner.js';
import { ownerKey, targetLabels } from '../dispatch/series.js';
import type { Budget } from './budget.js';
import { connectionOf } from './connection.js';
import { ownershipMetadata } from './ownership.js';

export interface BrokerDeps {
  metrics: MetricsRegistry;
  budget: Budget;
  /** Stable id of this exporter instance, stored on every sandbox. */
  instance: string;
  log?: (line: string) => void;
  /** Extra seconds a sandbox may outlive its run before the service's own timeout kills it. */
  graceSeconds?: number;
}

let pendingSeq = 0;

/**
 * The sandbox broker of one run. Creates through the unmodified SDK with ownership metadata and a
 * service-side timeout just past the run's own, so even a crashed exporter cannot leak for long;
 * counts sandboxes and their lifetime; kills whatever is left on close().
 */
export class RunSandboxBroker implements SandboxBroker {
  readonly connection;
  readonly metadata: Record<string, string>;
  private readonly owned = new Map<string, Sandbox>();
  private readonly killing = new Map<string, Promise<void>>();
  private readonly creating = new Set<Promise<unknown>>();
  private closed = false;
  private readonly tl;
  private readonly deadlineMs: number;

  constructor(
    private readonly info: RunInfo,
    private readonly deps: BrokerDeps,
  ) {
    this.connection = connectionOf(info.target);
    const grace = (deps.graceSeconds ?? 60) * 1000;
    this.deadlineMs = Date.now() + info.timeoutMs + grace;
    this.metadata = ownershipMetadata({
      instance: deps.instance,
      target: info.target.name,
      probe: info.probe,
      runId: info.runId,
      deadlineMs: this.deadlineMs,
    });
    this.tl = targetLabels(info.target);
  }

  private get owner(): string {
    return ownerKey(this.info.probe, this.info.target.name);
  }

  private updateInFlight(delta: number): void {
    this.deps.metrics.inc('e2bbench_sandboxes_in_flight', this.tl, delta);
    this.deps.metrics.set(
      'e2bbench_budget_used_sandbox_seconds',
      this.tl,
      this.deps.budget.minutesUsed(this.info.target.name) * 60,
    );
  }

  async create(opts: CreateSandboxOptions = {}): Promise<Sandbox> {
    const target = this.info.target;
    // Before anything is counted: a refused create must reserve neither budget nor in-flight.
    if (this.closed) throw new Error('run is over: no new sandboxes');
    const refusal = this.deps.budget.refusal(target.name);
    if (refusal) throw new ProbeSkip('budget', `${target.name}: ${refusal}`);
    const pending = `pending-${++pendingSeq}`;
    this.deps.budget.start(target.name, pending);
    this.updateInFlight(1);
    const timeoutMs = opts.timeoutMs ?? Math.max(10_000, this.deadlineMs - Date.now());
    // Not aborted with the run: a create the server has accepted would then leak. It is
    // awaited by close() instead, and killed on arrival when the run is already over.
    const creating = Sandbox.create(opts.template ?? target.template, {
      ...this.connection,
      ...opts.connection,
      metadata: { ...opts.metadata, ...this.metadata },
      envs: opts.envs,
      timeoutMs,
    });
    this.creating.add(creating);
    let sbx: Sandbox;
    try {
      sbx = await creating;
    } catch (err) {
      this.deps.budget.end(target.name, pending);
      this.updateInFlight(-1);
      throw err;
    } finally {
      this.creating.delete(creating);
    }
    this.deps.budget.rename(target.name, pending, sbx.sandboxId);
    this.deps.metrics.inc('e2bbench_sandboxes_created_total', { ...this.tl, probe: this.info.probe }, 1, this.owner);
    this.owned.set(sbx.sandboxId, sbx);
    if (this.closed) {
      await this.kill(sbx).catch(() => undefined);
      throw new Error('run ended while the sandbox was being created; it was killed');
    }
    return sbx;
  }

  track(sandbox: Sandbox): void {
    if (this.owned.has(sandbox.sandboxId)) {
      this.owned.set(sandbox.sandboxId, sandbox);
      return;
    }
    this.owned.set(sandbox.sandboxId, sandbox);
    this.deps.budget.start(this.info.target.name, sandbox.sandboxId);
    this.updateInFlight(1);
  }

  kill(sandbox: Sandbox | string): Promise<void> {
    const id = typeof sandbox === 'string' ? sandbox : sandbox.sandboxId;
    const running = this.killing.get(id);
    if (running) return running;
    const p = (async () => {
      try {
        // false = already gone (expired, crashed): still ours to account for.
        await Sandbox.kill(id, { ...this.connection, requestTimeoutMs: 30_000 });
        if (this.owned.delete(id)) {
          const seconds = this.deps.budget.end(this.info.target.name, id);
          this.updateInFlight(-1);
          this.deps.metrics.inc(
            'e2bbench_sandbox_lifetime_seconds_total',
            { ...this.tl, probe: this.info.probe },
            seconds,
            this.owner,
          );
        }
      } finally {
        this.killing.delete(id);
      }
    })();
    this.killing.set(id, p);
    return p;
  }

  live(): string[] {
    return [...this.owned.keys()];
  }

  /** Kills every sandbox the run still owns; a failed kill is retried once, then left to the reaper. */
  async close(): Promise<void> {
    this.closed = true;
    // Creates still in flight: wait for them so what they make is killed here, not leaked.
    await Promise.allSettled([...this.creating]);
    const ids = this.live();
    const results = await Promise.allSettled(ids.map((id) => this.kill(id)));
    const failed = ids.filter((_, i) => results[i].status === 'rejected');
    const retry = await Promise.allSettled(failed.map((id) => this.kill(id)));
    retry.forEach((r, i) => {
      if (r.status === 'rejected')
        this.deps.log?.(`could not kill sandbox ${failed[i]} (the reaper will): ${(r.reason as Error).message}`);
    });
  }
}
