import { vi } from 'vitest';
import { z } from 'zod';
import { Tracing } from '../../exporters/otel/tracing.js';
import { MetricsRegistry } from '../../exporters/prometheus/registry.js';
import type { ProbeConfig } from '../../src/config/load.js';
import { TargetSchema, type TargetConfig } from '../../src/config/schema.js';
import { ProbeError } from '../../src/probe/reasons.js';
import { defineProbe, type Probe, type ProbeContext } from '../../src/probe/types.js';
import { RunStore } from '../../src/results/store.js';
import { Runner, type RunnerDeps } from '../../src/runner/runner.js';

/** A promise a test opens by hand; waiters also return when their signal aborts. */
export class Gate {
  private release!: () => void;
  private promise!: Promise<void>;
  waiting = 0;

  constructor() {
    this.reset();
  }

  reset(): void {
    this.promise = new Promise((r) => (this.release = r));
  }

  open(): void {
    this.release();
  }

  async wait(signal?: AbortSignal): Promise<void> {
    this.waiting++;
    try {
      await new Promise<void>((resolve, reject) => {
        void this.promise.then(resolve);
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    } finally {
      this.waiting--;
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms until it holds; fails after `ms`. */
export async function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Fake timers and Date: scheduler time moves only when the test advances it, so windows of a few
 * 100 ms hold on a loaded machine. Undo with `vi.useRealTimers()` after the runs have ended.
 */
export function useFakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
}

/** Advances the fake clock in 10 ms steps until `cond` holds; fails after `ms` of fake time. */
export async function advanceUntil(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  for (let t = 0; !cond(); t += 10) {
    if (t > ms) throw new Error(`no ${what} within ${ms} ms of fake time`);
    await vi.advanceTimersByTimeAsync(10);
  }
}

/** Gate the `fake.block` probe waits on; tests open and reset it. */
export const blockGate = new Gate();

/** Records one gauge, one histogram observation, a phase, a log line and a detail. */
export const okProbe = defineProbe({
  name: 'fake.ok',
  family: 'storage',
  description: 'test probe that succeeds',
  defaults: { interval: '1h', timeout: '30s' },
  options: z.object({ value: z.number().default(42) }),
  async run(ctx) {
    await ctx.phase('bench.fake', async () => undefined);
    ctx.gauge('e2bbench_cpu_events_per_second', { scope: 'host', threads: '1' }, ctx.settings.options.value);
    ctx.observe('e2bbench_sandbox_start_seconds', { template: ctx.target.template, start_type: 'cold' }, 0.3);
    ctx.log('fake measurement done');
    ctx.detail('fake', { ok: true });
  },
});

export const failProbe = defineProbe({
  name: 'fake.fail',
  family: 'storage',
  description: 'test probe that fails with parse_error',
  defaults: { interval: '1h', timeout: '30s' },
  async run() {
    throw new ProbeError('parse_error', 'could not parse the fake tool output');
  },
});

export const blockProbe = defineProbe({
  name: 'fake.block',
  family: 'storage',
  description: 'test probe that waits for blockGate',
  defaults: { interval: '1h', timeout: '30s' },
  async run(ctx) {
    await blockGate.wait(ctx.signal);
    ctx.gauge('e2bbench_cpu_events_per_second', { scope: 'host', threads: '2' }, 7);
  },
});

/** Stands in for probes/index.ts (through vi.mock) where a test needs the whole exporter. */
export const FAKE_PROBES: Probe[] = [okProbe, failProbe, blockProbe];

export function target(name: string, extra: Record<string, unknown> = {}): TargetConfig {
  return TargetSchema.parse({ name, cloud_provider: 'local', cloud_region: 'test-region', ...extra });
}

/** A probe config as config/load.ts would build it; options go through the probe's schema (defaults apply). */
export function probeConfig(probe: Probe, opts: Partial<Omit<ProbeConfig, 'probe'>> = {}): ProbeConfig {
  const options = probe.options ? probe.options.parse(opts.options ?? {}) : {};
  return { probe, enabled: true, intervalMs: 60_000, timeoutMs: 5_000, samples: 1, ...opts, options };
}

/** A probe from a run function, for tests that need their own behaviour. */
export function inlineProbe(name: string, run: (ctx: ProbeContext) => Promise<void>): Probe {
  return {
    name,
    family: 'storage',
    description: `test probe ${name}`,
    defaults: { interval: '1h', timeout: '30s' },
    run,
  };
}

export function makeRunner(extra: Partial<RunnerDeps> = {}) {
  const metrics = new MetricsRegistry();
  const tracing = new Tracing({ serviceName: 'e2b-bench-test', version: 'test' });
  const store = new RunStore();
  const runner = new Runner({ metrics, tracing, store, abortGraceMs: 200, ...extra });
  return { metrics, tracing, store, runner };
}

/** The value of one sample line in a text exposition, or undefined when absent. */
export function sampleValue(body: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of body.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}
