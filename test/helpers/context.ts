import { z } from 'zod';
import type { MetricName } from '../../exporters/prometheus/catalog.js';
import type { Labels } from '../../exporters/prometheus/registry.js';
import { TargetSchema, type TargetConfig } from '../../src/config/schema.js';
import { parseDuration } from '../../src/config/duration.js';
import { NO_SANDBOXES, type SandboxBroker } from '../../src/probe/sandboxes.js';
import type { Probe, ProbeContext, RecordedSample } from '../../src/probe/types.js';
import { servicesOf } from '../../src/targets/services.js';

export interface TestContext<O> extends ProbeContext<O> {
  samples: RecordedSample[];
  observations: RecordedSample[];
  details: Record<string, unknown>;
  logs: string[];
  phases: { name: string; seconds: number }[];
  runDeferred(): Promise<void>;
  abort(): void;
}

/**
 * A probe context for unit tests of a single probe, without the runner (no spans, no registry).
 * Options are parsed through the probe's own schema, so defaults apply as in production.
 */
export function makeTestContext<S extends z.ZodTypeAny>(
  probe: Probe<S>,
  opts: {
    options?: Record<string, unknown>;
    samples?: number;
    target?: Partial<TargetConfig>;
    sandboxes?: SandboxBroker;
    timeoutMs?: number;
  } = {},
): TestContext<z.output<S>> {
  const ac = new AbortController();
  const deferred: { label: string; fn: () => Promise<void> | void }[] = [];
  const target = TargetSchema.parse({ name: 'test', cloud_provider: 'local', ...opts.target });
  const options = probe.options ? probe.options.parse(opts.options ?? {}) : {};
  const ctx: TestContext<z.output<S>> = {
    probe: probe.name,
    runId: 'test-run',
    trigger: 'cli',
    target,
    services: servicesOf(target),
    settings: {
      intervalMs: parseDuration(probe.defaults.interval)!,
      timeoutMs: opts.timeoutMs ?? parseDuration(probe.defaults.timeout)!,
      samples: opts.samples ?? probe.defaults.samples ?? 1,
      options,
    },
    signal: ac.signal,
    traceId: '0'.repeat(32),
    sandboxes: opts.sandboxes ?? NO_SANDBOXES,
    samples: [],
    observations: [],
    details: {},
    logs: [],
    phases: [],
    gauge(name: MetricName, labels: Labels, value: number) {
      ctx.samples.push({ name, labels, value });
    },
    observe(name: MetricName, labels: Labels, value: number) {
      ctx.observations.push({ name, labels, value });
    },
    async phase(name, fn) {
      const t0 = performance.now();
      const value = await fn({} as never);
      const seconds = (performance.now() - t0) / 1000;
      ctx.phases.push({ name, seconds });
      return { value, seconds };
    },
    log(m) {
      ctx.logs.push(m);
    },
    detail(k, v) {
      ctx.details[k] = v;
    },
    defer(label, fn) {
      deferred.push({ label, fn });
    },
    async runDeferred() {
      while (deferred.length) await deferred.pop()!.fn();
    },
    abort() {
      ac.abort();
    },
  };
  return ctx;
}
