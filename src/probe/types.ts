import type { Span } from '@opentelemetry/api';
import type { z } from 'zod';
import type { MetricName } from '../../exporters/prometheus/catalog.js';
import type { Labels } from '../../exporters/prometheus/registry.js';
import type { TargetConfig } from '../config/schema.js';
import type { TargetServices } from '../targets/services.js';
import type { SandboxBroker } from './sandboxes.js';

export type ProbeFamily = 'host' | 'lifecycle' | 'sandbox' | 'storage' | 'capacity';
export type Trigger = 'schedule' | 'on_demand' | 'cli';
export type Requirement = 'sandbox' | 'storage';
export type Load = 'cpu' | 'memory' | 'disk' | 'network';

/** Effective settings of one probe on one target (defaults ← config). */
export interface ProbeSettings<O = Record<string, unknown>> {
  intervalMs: number;
  timeoutMs: number;
  samples: number;
  options: O;
}

export interface Timed<T> {
  value: T;
  seconds: number;
}

export interface RecordedSample {
  name: MetricName;
  labels: Labels;
  value: number;
}

/** What the runner hands a probe. A probe only measures; everything else is the runner's. */
export interface ProbeContext<O = Record<string, unknown>> {
  readonly probe: string;
  readonly runId: string;
  readonly trigger: Trigger;
  readonly target: TargetConfig;
  /** The target's services beyond the SDK (control plane, runtime admin, Nomad), built from its config. */
  readonly services: TargetServices;
  readonly settings: ProbeSettings<O>;
  readonly signal: AbortSignal;
  readonly traceId: string;
  /** Sandboxes created through here are tagged as ours, counted and killed when the run ends. */
  readonly sandboxes: SandboxBroker;
  /** Last-run result gauge. Target labels are added by the runner. */
  gauge(name: MetricName, labels: Labels, value: number): void;
  /** Histogram observation; the run's trace id becomes the exemplar. */
  observe(name: MetricName, labels: Labels, value: number): void;
  /** Runs fn as a child span named `name` and returns its value with its wall time. */
  phase<T>(
    name: string,
    fn: (span: Span) => Promise<T>,
    attributes?: Record<string, string | number>,
  ): Promise<Timed<T>>;
  log(message: string): void;
  /** Structured data kept in the run record (statistics, versions, raw samples). */
  detail(key: string, value: unknown): void;
  /** Cleanup run after the probe on every path (LIFO), even on timeout or abort. */
  defer(label: string, fn: () => Promise<void> | void): void;
}

export interface ProbeDefaults {
  interval: string;
  timeout: string;
  samples?: number;
  /**
   * false: opt-in. The probe runs only where the configuration names it (or sets `enabled: true`),
   * for measurements most targets cannot support out of the box.
   */
  enabled?: boolean;
}

export interface Probe<S extends z.ZodTypeAny = z.ZodTypeAny> {
  name: string;
  family: ProbeFamily;
  description: string;
  defaults: ProbeDefaults;
  /** zod object of the probe's own options (merged with enabled/interval/timeout/samples/targets). */
  options?: S;
  /** What it needs from a target (an E2B sandbox service, a storage bucket); it runs only where all are there. */
  requires?: readonly Requirement[];
  /**
   * Resources of the machine the measurement loads where it runs: this machine for host probes,
   * the sandboxes' machine for sandbox probes. Absent or empty: it loads nothing measurable.
   */
  load?: readonly Load[];
  run(ctx: ProbeContext<z.output<S>>): Promise<void>;
}

/** Helper that keeps option types when declaring a probe object. */
export function defineProbe<S extends z.ZodTypeAny>(p: Probe<S>): Probe<S> {
  return p;
}
