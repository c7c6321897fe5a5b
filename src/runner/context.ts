import { SpanStatusCode } from '@opentelemetry/api';
import type { MetricName } from '../../exporters/prometheus/catalog.js';
import type { Labels, MetricsRegistry } from '../../exporters/prometheus/registry.js';
import type { Tracing } from '../../exporters/otel/tracing.js';
import type { ProbeConfig } from '../config/load.js';
import type { RunTarget } from '../targets/machine.js';
import type { SandboxBroker } from '../probe/sandboxes.js';
import type { ProbeContext, RecordedSample, Trigger } from '../probe/types.js';
import type { PhaseRecord } from '../results/run-record.js';
import { ownerKey, targetLabels } from '../dispatch/series.js';
import { maskSecrets } from '../config/secrets.js';
import { servicesOf } from '../targets/services.js';
import { safeMessage } from './classify.js';

export interface Deferred {
  label: string;
  fn: () => Promise<void> | void;
}

/** What a probe handed back through its context, for the run record and cleanup. */
export interface Collected {
  phases: PhaseRecord[];
  logs: string[];
  details: Record<string, unknown>;
  recorded: RecordedSample[];
  deferred: Deferred[];
}

export interface ContextInput {
  pc: ProbeConfig;
  target: RunTarget;
  runId: string;
  trigger: Trigger;
  samples: number;
  signal: AbortSignal;
  traceId: string;
  sandboxes: SandboxBroker;
  metrics: MetricsRegistry;
  tracing: Tracing;
  /** performance.now() at the start of the run; phase offsets are relative to it. */
  t0: number;
  log?: (line: string) => void;
}

/**
 * Builds the context of one run: results go to the registry with the target's labels and the
 * pair's owner key, and are collected for the run record.
 */
export function createProbeContext(input: ContextInput): { ctx: ProbeContext; collected: Collected } {
  const { pc, target, metrics, tracing, traceId, t0 } = input;
  const probe = pc.probe.name;
  const tl = targetLabels(target);
  const owner = ownerKey(probe, target.name);
  const c: Collected = { phases: [], logs: [], details: {}, recorded: [], deferred: [] };
  const ctx: ProbeContext = {
    probe,
    runId: input.runId,
    trigger: input.trigger,
    target,
    services: servicesOf(target),
    settings: { intervalMs: pc.intervalMs, timeoutMs: pc.timeoutMs, samples: input.samples, options: pc.options },
    signal: input.signal,
    traceId,
    sandboxes: input.sandboxes,
    gauge(name: MetricName, labels: Labels, value: number) {
      const l = { ...tl, ...labels };
      metrics.set(name, l, value, owner);
      c.recorded.push({ name, labels: l, value });
    },
    observe(name: MetricName, labels: Labels, value: number) {
      const l = { ...tl, ...labels };
      metrics.observe(name, l, value, traceId, owner);
      c.recorded.push({ name, labels: l, value });
    },
    async phase(name, fn, attributes) {
      const start = performance.now();
      return tracing.tracer.startActiveSpan(name, { attributes }, async (span) => {
        try {
          const value = await fn(span);
          const seconds = (performance.now() - start) / 1000;
          c.phases.push({ name, startOffsetSeconds: (start - t0) / 1000, seconds });
          return { value, seconds };
        } catch (err) {
          const seconds = (performance.now() - start) / 1000;
          c.phases.push({ name, startOffsetSeconds: (start - t0) / 1000, seconds, error: safeMessage(err) });
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: safeMessage(err) });
          throw err;
        } finally {
          span.end();
        }
      });
    },
    log: (line) => {
      const m = maskSecrets(line);
      c.logs.push(`${new Date().toISOString()} ${m}`);
      input.log?.(`[${probe}@${target.name}] ${m}`);
    },
    detail: (k, v) => {
      c.details[k] = v;
    },
    defer: (label, fn) => {
      c.deferred.push({ label, fn });
    },
  };
  return { ctx, collected: c };
}
