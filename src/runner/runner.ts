import { randomBytes } from 'node:crypto';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { MetricsRegistry } from '../../exporters/prometheus/registry.js';
import type { Tracing } from '../../exporters/otel/tracing.js';
import type { ProbeConfig } from '../config/load.js';
import type { RunTarget } from '../targets/machine.js';
import { ProbeError, ProbeSkip } from '../probe/reasons.js';
import { NO_SANDBOXES, type SandboxBroker } from '../probe/sandboxes.js';
import type { Trigger } from '../probe/types.js';
import type { RunRecord } from '../results/run-record.js';
import type { RunSink } from '../results/store.js';
import { ownerKey, targetLabels } from '../dispatch/series.js';
import { classifyError, safeMessage } from './classify.js';
import { createProbeContext, type Deferred } from './context.js';
import { sleep } from '../probe/sleep.js';

export interface RunInfo {
  runId: string;
  probe: string;
  target: RunTarget;
  timeoutMs: number;
}

/** Creates the sandbox broker of one run; it must kill what it still owns on `close()`. */
export type BrokerFactory = (info: RunInfo) => SandboxBroker & { close(): Promise<void> };

export interface RunnerDeps {
  metrics: MetricsRegistry;
  tracing: Tracing;
  store: RunSink;
  brokerFor?: BrokerFactory;
  log?: (line: string) => void;
  /** How long a probe may take to notice an abort before cleanup starts regardless. */
  abortGraceMs?: number;
  /** Upper bound for each deferred cleanup step. */
  cleanupTimeoutMs?: number;
}

export interface ProbeRunOptions {
  trigger: Trigger;
  samples?: number;
  /** Aborts the run (exporter shutdown). */
  signal?: AbortSignal;
  /** How the dispatcher let it use this machine; kept in the run record. */
  machine?: RunRecord['machine'];
}

const newRunId = () => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

/**
 * Executes one admitted run. Owns everything around the measurement: root and phase spans,
 * timeout and abort, the probe's context (built by createProbeContext), the run record, failure
 * classification, deferred cleanup and sandbox cleanup. Runs reach it only through the dispatcher,
 * which decides whether they may start.
 */
export class Runner {
  private readonly active = new Map<string, AbortController>();

  constructor(private readonly deps: RunnerDeps) {}

  isRunning(probe: string, target: string): boolean {
    return this.active.has(ownerKey(probe, target));
  }

  runningCount(target?: string): number {
    if (!target) return this.active.size;
    let n = 0;
    for (const k of this.active.keys()) if (k.endsWith(`/${target}`)) n++;
    return n;
  }

  /** Abort every running probe (shutdown); their cleanup still runs. */
  abortAll(reason: string): void {
    for (const ac of this.active.values()) ac.abort(new ProbeError('internal', reason));
  }

  async run(pc: ProbeConfig, target: RunTarget, opts: ProbeRunOptions): Promise<RunRecord> {
    const key = ownerKey(pc.probe.name, target.name);
    if (this.active.has(key)) throw new Error(`${key} is already running`);
    const ac = new AbortController();
    this.active.set(key, ac);
    try {
      return await this.execute(pc, target, opts, ac);
    } finally {
      this.active.delete(key);
    }
  }

  private async execute(
    pc: ProbeConfig,
    target: RunTarget,
    opts: ProbeRunOptions,
    ac: AbortController,
  ): Promise<RunRecord> {
    const { metrics, tracing, store } = this.deps;
    const probe = pc.probe;
    const tl = targetLabels(target);
    const owner = ownerKey(probe.name, target.name);
    const runId = newRunId();
    const started = Date.now();
    const t0 = performance.now();
    const samples = opts.samples ?? pc.samples;

    const onParentAbort = () => ac.abort(opts.signal?.reason ?? new ProbeError('internal', 'aborted'));
    if (opts.signal?.aborted) onParentAbort();
    opts.signal?.addEventListener('abort', onParentAbort, { once: true });
    const timer = setTimeout(
      () => ac.abort(new ProbeError('timeout', `probe exceeded its timeout of ${pc.timeoutMs / 1000}s`)),
      pc.timeoutMs,
    );

    metrics.inc('e2bbench_probe_runs_total', { ...tl, probe: probe.name, trigger: opts.trigger }, 1, owner);
    // A run on this machine (host probes) has no sandboxes to broker.
    const broker = target.machine
      ? undefined
      : this.deps.brokerFor?.({ runId, probe: probe.name, target, timeoutMs: pc.timeoutMs });

    return tracing.tracer.startActiveSpan(
      `probe ${probe.name}`,
      {
        attributes: {
          'e2bbench.probe': probe.name,
          'e2bbench.run_id': runId,
          'e2bbench.trigger': opts.trigger,
          target: target.name,
          'cloud.provider': tl.cloud_provider,
          'cloud.region': tl.cloud_region,
          ...(target.machine ? { 'host.name': target.machine.host } : { 'e2b.template': target.template }),
        },
      },
      async (root: Span) => {
        const traceId = root.spanContext().traceId;
        const { ctx, collected } = createProbeContext({
          pc,
          target,
          runId,
          trigger: opts.trigger,
          samples,
          signal: ac.signal,
          traceId,
          sandboxes: broker ?? NO_SANDBOXES,
          metrics,
          tracing,
          t0,
          log: this.deps.log,
        });
        const { phases, logs, details, recorded, deferred } = collected;

        let success = false;
        let error: unknown;
        const running = probe.run(ctx);
        const aborted = new Promise<never>((_, reject) => {
          const fail = () => reject(ac.signal.reason);
          if (ac.signal.aborted) fail();
          else ac.signal.addEventListener('abort', fail, { once: true });
        });
        try {
          await Promise.race([running, aborted]);
          success = true;
        } catch (err) {
          error = err;
        }
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onParentAbort);
        if (!success) {
          // Tell a probe that is still going to stop, then give it a moment before cleaning up under it.
          if (!ac.signal.aborted) ac.abort(error);
          await Promise.race([
            running.catch(() => undefined),
            sleep(this.deps.abortGraceMs ?? 2000, undefined, { unref: true }),
          ]);
        }
        await this.cleanup(deferred, broker, logs);

        const durationSeconds = (performance.now() - t0) / 1000;
        let reason: RunRecord['reason'];
        let skipped: RunRecord['skipped'];
        let message: string | undefined;
        if (error instanceof ProbeSkip) {
          skipped = error.reason;
          message = error.message;
          metrics.inc('e2bbench_probe_skipped_total', { ...tl, probe: probe.name, reason: skipped }, 1, owner);
          root.setAttribute('e2bbench.skipped', skipped);
        } else if (!success) {
          reason = classifyError(error);
          message = safeMessage(error);
          metrics.inc('e2bbench_probe_failures_total', { ...tl, probe: probe.name, reason }, 1, owner);
          root.setAttribute('e2bbench.failure_reason', reason);
          root.recordException(error as Error);
          root.setStatus({ code: SpanStatusCode.ERROR, message });
        }
        const pl = { ...tl, probe: probe.name };
        if (!skipped) {
          metrics.set('e2bbench_probe_success', pl, success ? 1 : 0, owner);
          metrics.set('e2bbench_probe_duration_seconds', pl, durationSeconds, owner);
          metrics.observe('e2bbench_probe_run_seconds', pl, durationSeconds, traceId, owner);
        }
        metrics.set('e2bbench_probe_last_run_timestamp_seconds', pl, Date.now() / 1000, owner);
        root.end();

        const record: RunRecord = {
          id: runId,
          probe: probe.name,
          target: target.name,
          trigger: opts.trigger,
          startedAt: new Date(started).toISOString(),
          endedAt: new Date().toISOString(),
          durationSeconds,
          success,
          reason,
          skipped,
          message,
          traceId,
          machine: opts.machine,
          host: target.machine && {
            name: target.machine.host,
            cloud_provider: target.machine.cloud_provider,
            cloud_region: target.machine.cloud_region,
            instance_type: target.machine.instance_type,
            ...(target.host === 'self' ? { target: target.name } : {}),
          },
          phases,
          logs,
          details,
          metrics: recorded,
          settings: {
            intervalSeconds: pc.intervalMs / 1000,
            timeoutSeconds: pc.timeoutMs / 1000,
            samples,
            options: pc.options,
          },
        };
        store.add(record);
        const outcome = success ? 'ok' : skipped ? `skipped (${skipped})` : `failed (${reason}): ${message}`;
        this.deps.log?.(`run ${runId} ${probe.name}@${target.name} ${outcome} in ${durationSeconds.toFixed(2)}s`);
        return record;
      },
    );
  }

  private async cleanup(
    deferred: Deferred[],
    broker: (SandboxBroker & { close(): Promise<void> }) | undefined,
    logs: string[],
  ): Promise<void> {
    const limit = this.deps.cleanupTimeoutMs ?? 30_000;
    const bounded = async (label: string, fn: () => Promise<void> | void) => {
      let t: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(fn),
          new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`cleanup timed out after ${limit} ms`)), limit))),
        ]);
      } catch (err) {
        logs.push(`${new Date().toISOString()} cleanup ${label} failed: ${safeMessage(err)}`);
      } finally {
        clearTimeout(t);
      }
    };
    while (deferred.length) {
      const d = deferred.pop()!;
      await bounded(d.label, d.fn);
    }
    if (broker) await bounded('sandboxes', () => broker.close());
  }
}
