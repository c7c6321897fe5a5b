import type { Sandbox } from 'e2b';
import { z } from 'zod';
import { ProbeError, ProbeSkip } from '../../src/probe/reasons.js';
import type { ProbeContext } from '../../src/probe/types.js';
import { bootstrapCi } from '../../src/stats/bootstrap.js';
import { summarize, type Summary } from '../../src/stats/summary.js';
import type { PauseKind } from '../../src/targets/runtime-admin.js';
import { inSandbox } from '../../src/targets/sandbox-errors.js';
import { sleep } from '../../src/probe/sleep.js';
import type { StartType } from '../../src/report/specs.js';

/** The labels of one start series; restore series also say what their pause kept. */
export interface StartSeries {
  template: string;
  start_type: StartType;
  pause_kind?: PauseKind;
}

/** Label set of a start series (pause_kind only where it is set). */
function labelsOf(series: StartSeries): Record<string, string> {
  const { template, start_type, pause_kind } = series;
  return pause_kind ? { template, start_type, pause_kind } : { template, start_type };
}

/** Options every start probe takes: seconds between samples (≥ 1 s) and the run's pass mark. */
export const startOptions = z.object({
  pause_between: z.number().nonnegative().default(1),
  min_success_ratio: z.number().min(0).max(1).default(1),
});

export interface StartSample {
  sandbox: Sandbox;
  /** Request until the first command has exited 0: time to interactive. */
  seconds: number;
  phases: Record<string, number>;
}

/**
 * One timed start: `open` (create, or connect for a restore) then the first command `true`.
 * Records the start histogram and one phase histogram per step, each as a span.
 */
export async function timedStart(
  ctx: ProbeContext<unknown>,
  series: StartSeries,
  open: { phase: 'api_create' | 'connect'; span: string; fn: () => Promise<Sandbox> },
): Promise<StartSample> {
  const t0 = performance.now();
  const opened = await ctx.phase(open.span, open.fn, { 'e2bbench.start_type': series.start_type });
  const sandbox = opened.value;
  ctx.sandboxes.track(sandbox);
  const first = await ctx.phase('sandbox.first_command', () =>
    inSandbox(sandbox, 'the first command', async () => {
      const r = await sandbox.commands.run('true', { requestTimeoutMs: 60_000 });
      if (r.exitCode !== 0) throw new ProbeError('command_failed', `first command exited ${r.exitCode}`);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const labels = labelsOf(series);
  ctx.observe('e2bbench_sandbox_start_seconds', labels, seconds);
  ctx.observe('e2bbench_sandbox_phase_seconds', { ...labels, phase: open.phase }, opened.seconds);
  ctx.observe('e2bbench_sandbox_phase_seconds', { ...labels, phase: 'first_command' }, first.seconds);
  return { sandbox, seconds, phases: { [open.phase]: opened.seconds, first_command: first.seconds } };
}

/** Kills a sandbox as a timed phase. */
export async function timedKill(ctx: ProbeContext<unknown>, sandbox: Sandbox, series: StartSeries): Promise<number> {
  const { seconds } = await ctx.phase('sandbox.kill', () => ctx.sandboxes.kill(sandbox));
  ctx.observe('e2bbench_sandbox_phase_seconds', { ...labelsOf(series), phase: 'kill' }, seconds);
  return seconds;
}

export interface SampleOutcome {
  seconds?: number;
  error?: unknown;
}

/**
 * Runs `n` samples with a pause between them, never stopping on a failed sample (the success
 * ratio is a result too), but stopping at once when the run is aborted or skipped (the budget).
 */
export async function collectSamples(
  ctx: ProbeContext<unknown>,
  n: number,
  pauseMs: number,
  one: (i: number) => Promise<number>,
): Promise<SampleOutcome[]> {
  const out: SampleOutcome[] = [];
  for (let i = 0; i < n; i++) {
    ctx.signal.throwIfAborted();
    if (i > 0 && pauseMs > 0) await sleep(pauseMs, ctx.signal);
    try {
      out.push({ seconds: await one(i) });
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      // Our own budget refused the sandbox: the run is skipped, not a failed start of the target.
      if (error instanceof ProbeSkip) throw error;
      ctx.log(`sample ${i + 1}/${n} failed: ${(error as Error).message}`);
      out.push({ error });
    }
  }
  return out;
}

/**
 * Publishes a run's start statistics (gauges + run record) and fails the run, with the first
 * sample's error, when fewer samples succeeded than `minSuccessRatio` asks for.
 */
export function reportStarts(
  ctx: ProbeContext<unknown>,
  series: StartSeries,
  outcomes: SampleOutcome[],
  minSuccessRatio: number,
): Summary {
  const ok = outcomes.flatMap((o) => (o.seconds === undefined ? [] : [o.seconds]));
  const s = summarize(ok, outcomes.length);
  const labels = labelsOf(series);
  ctx.gauge('e2bbench_sandbox_start_success_ratio', labels, s.successRatio);
  // 95% bootstrap intervals of p50 and p95: how far the run's own figures can be trusted.
  const ci50 = bootstrapCi(ok, 50);
  const ci95 = bootstrapCi(ok, 95);
  if (s.n > 0) {
    const stats: Record<string, number | undefined> = {
      n: s.n,
      p50_ci_low: ci50?.low,
      p50_ci_high: ci50?.high,
      p95_ci_low: ci95?.low,
      p95_ci_high: ci95?.high,
      min: s.min,
      p50: s.p50,
      p90: s.p90,
      p95: s.p95,
      p99: s.p99,
      max: s.max,
      stddev: s.stddev,
    };
    for (const [statistic, v] of Object.entries(stats))
      if (v !== undefined) ctx.gauge('e2bbench_sandbox_start_last_seconds', { ...labels, statistic }, v);
  }
  ctx.detail(
    'samples',
    outcomes.map((o) =>
      o.seconds !== undefined ? { seconds: o.seconds } : { error: String((o.error as Error)?.message ?? o.error) },
    ),
  );
  ctx.detail('stats', {
    ...s,
    percentile_method: 'linear interpolation between closest ranks (R-7)',
    ci95: { p50: ci50, p95: ci95, method: 'percentile bootstrap, 2000 resamples' },
  });
  if (s.outliers.length) ctx.log(`outliers beyond ±3σ (kept): samples ${s.outliers.map((i) => i + 1).join(', ')}`);
  if (s.successRatio < minSuccessRatio) {
    const first = outcomes.find((o) => o.error)?.error;
    throw first ?? new ProbeError('sandbox_error', 'no successful sample');
  }
  return s;
}
