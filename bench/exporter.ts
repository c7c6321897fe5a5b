import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from 'e2b';
import { MetricsRegistry } from '../exporters/prometheus/registry.js';
import { CATALOG, labelNamesOf, type MetricName } from '../exporters/prometheus/catalog.js';
import { Tracing } from '../exporters/otel/tracing.js';
import { TargetSchema } from '../src/config/schema.js';
import { defineProbe } from '../src/probe/types.js';
import { RunHistory } from '../src/results/history.js';
import type { RunRecord } from '../src/results/run-record.js';
import { RunStore } from '../src/results/store.js';
import { Runner } from '../src/runner/runner.js';
import { bootstrapCi } from '../src/stats/bootstrap.js';
import { Budget } from '../src/targets/budget.js';
import { RunSandboxBroker } from '../src/targets/broker.js';
import { timedKill, timedStart } from '../probes/lifecycle/sample.js';
import { startRuntimeProcess } from './runtime-process.js';
import { printRows, row } from './stats.js';

/**
 * Wall and CPU milliseconds of one call. CPU is the main thread's (user + system): the exporter's
 * work runs there, while V8's background compiler and GC helpers would add noise of their own.
 */
async function timed(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const c = process.threadCpuUsage();
  const t = performance.now();
  await fn();
  const wall = performance.now() - t;
  const u = process.threadCpuUsage(c);
  return { wall, cpu: (u.user + u.system) / 1000 };
}

/**
 * A p50 set against its goal with the p50's bootstrap interval: paired differences spread by
 * milliseconds, so a p50 near the goal decides nothing unless its whole interval is on one side.
 */
function againstGoal(samples: number[], goalMs: number): string {
  const ci = bootstrapCi(samples, 50);
  if (!ci) return `goal ≤ ${goalMs} ms at p50`;
  const verdict = ci.high <= goalMs ? 'met' : ci.low > goalMs ? 'not met' : 'undecided at this n';
  return `goal ≤ ${goalMs} ms at p50: ${verdict} (p50 95% CI ${ci.low.toFixed(2)} … ${ci.high.toFixed(2)} ms)`;
}

/** Wall and CPU of a whole sample, and of its start (create → first command) alone. */
interface Sample {
  wall: number;
  cpu: number;
  /** The start figure: for the runner, the one the probe publishes (its own timer). */
  startWall: number;
  startCpu: number;
}

const POOL_SIZE = 2;

/**
 * The exporter's added time per sample: the same create → `true` → kill, once as a bare SDK loop,
 * once through the runner (spans, histograms, broker bookkeeping), interleaved (alternating which
 * goes first) so both see the same machine state. The runtime runs in a process of its own, so
 * this process's CPU time per sample is the client's work alone: the pairwise CPU difference is
 * the exporter's own work, which the machine's load does not blur the way it blurs wall time.
 *
 * Each sample starts on an idle runtime (pool full, no sandbox running): otherwise the refill the
 * previous sample set off shares the cores with this one by chance. The start (create → first
 * command) is also compared alone, against the figure the probe publishes: the kill that ends a
 * sample races the refill its first command set off, which spreads whole-sample wall differences
 * by ±10 ms and more on 2 cores.
 */
export async function benchOverhead(n: number): Promise<void> {
  const rt = await startRuntimeProcess(['--pool-size', String(POOL_SIZE)]);
  const conn = rt.conn;
  const metrics = new MetricsRegistry();
  const tracing = new Tracing({ serviceName: 'bench', version: 'bench' });
  const budget = new Budget({ max_concurrent_sandboxes: 100, max_sandbox_minutes_per_hour: 1e9 });
  const runner = new Runner({
    metrics,
    tracing,
    store: new RunStore(),
    brokerFor: (info) => new RunSandboxBroker(info, { metrics, budget, instance: 'bench' }),
  });
  const target = TargetSchema.parse({
    name: 'local',
    cloud_provider: 'local',
    e2b: { api_url: conn.apiUrl, sandbox_url: conn.sandboxUrl, api_key: conn.apiKey },
  });
  let sample: Sample = { wall: 0, cpu: 0, startWall: 0, startCpu: 0 };
  const probe = defineProbe({
    name: 'bench.one_start',
    family: 'lifecycle',
    description: 'one warm start',
    defaults: { interval: '1h', timeout: '1m' },
    async run(ctx) {
      let startWall = 0;
      let startCpu = 0;
      const whole = await timed(async () => {
        const c = process.threadCpuUsage();
        const s = await timedStart(
          ctx,
          { template: 'base', start_type: 'warm' },
          { phase: 'api_create', span: 'sandbox.create', fn: () => ctx.sandboxes.create() },
        );
        const u = process.threadCpuUsage(c);
        startWall = s.seconds * 1000;
        startCpu = (u.user + u.system) / 1000;
        await timedKill(ctx, s.sandbox, { template: 'base', start_type: 'warm' });
      });
      sample = { ...whole, startWall, startCpu };
    },
  });
  const pc = { probe, enabled: true, intervalMs: 3_600_000, timeoutMs: 60_000, samples: 1, options: {} };
  const bareLoop = async (): Promise<Sample> => {
    let start = { wall: 0, cpu: 0 };
    const whole = await timed(async () => {
      let s!: Sandbox;
      start = await timed(async () => {
        s = await Sandbox.create('base', conn);
        await s.commands.run('true');
      });
      await s.kill();
    });
    return { ...whole, startWall: start.wall, startCpu: start.cpu };
  };
  const throughRunner = async () => {
    const whole = await timed(() => runner.run(pc, target, { trigger: 'cli' }));
    return { sample, whole };
  };
  /** Until the pool is full and no sandbox runs, then a moment for the kill's teardown to end. */
  const idle = async () => {
    for (let i = 0; i < 400; i++) {
      const res = await fetch(`${conn.apiUrl}/admin/status`, {
        headers: { authorization: `Bearer ${rt.adminToken}` },
        signal: AbortSignal.timeout(5000),
      });
      const status = (await res.json()) as { pool: Record<string, number>; sandboxes: unknown[] };
      if ((status.pool.base ?? 0) >= POOL_SIZE && status.sandboxes.length === 0) {
        await new Promise((r) => setTimeout(r, 150));
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    // Measuring on would compare a sample beside a refill with one on an idle runtime.
    throw new Error('the local runtime did not become idle within 10 s');
  };
  const bare: Sample[] = [];
  const inner: Sample[] = [];
  const whole: { wall: number; cpu: number }[] = [];
  const loadBefore = loadavg()[0];
  try {
    for (let i = 0; i < n + 2; i++) {
      let b: Sample;
      let r: Awaited<ReturnType<typeof throughRunner>>;
      await idle();
      if (i % 2) {
        b = await bareLoop();
        await idle();
        r = await throughRunner();
      } else {
        r = await throughRunner();
        await idle();
        b = await bareLoop();
      }
      if (i < 2) continue; // warm-up: JIT, connection pools
      bare.push(b);
      inner.push(r.sample);
      whole.push(r.whole);
    }
  } finally {
    await rt.proc.stop();
  }
  const load = `load ${loadBefore.toFixed(1)} → ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`;
  const diff = (a: readonly Pick<Sample, 'wall' | 'cpu'>[], k: 'wall' | 'cpu') => a.map((x, i) => x[k] - bare[i][k]);
  const addedStart = inner.map((x, i) => x.startWall - bare[i].startWall);
  const addedStartCpu = inner.map((x, i) => x.startCpu - bare[i].startCpu);
  const addedWall = diff(inner, 'wall');
  const addedCpu = diff(inner, 'cpu');
  printRows('Exporter overhead (same calls, interleaved, each on an idle runtime in its own process)', [
    row(
      'bare SDK: create → true, wall',
      bare.map((x) => x.startWall),
      'ms',
      load,
    ),
    row(
      'through the runner: the start figure the probe publishes',
      inner.map((x) => x.startWall),
    ),
    row(
      'added to the published start figure, wall (pairwise difference)',
      addedStart,
      'ms',
      againstGoal(addedStart, 1),
    ),
    row('added to the start, CPU of the main thread (pairwise)', addedStartCpu, 'ms', againstGoal(addedStartCpu, 1)),
    row(
      'bare SDK: create → true → kill, wall',
      bare.map((x) => x.wall),
    ),
    row(
      'added per sample incl. kill, wall (pairwise difference)',
      addedWall,
      'ms',
      `the kill races the pool refill; ${againstGoal(addedWall, 1)}`,
    ),
    row(
      'bare SDK, CPU of the main thread',
      bare.map((x) => x.cpu),
    ),
    row(
      'added per sample incl. kill, CPU (pairwise difference)',
      addedCpu,
      'ms',
      `the exporter's own work; ${againstGoal(addedCpu, 1)}`,
    ),
    row('whole run incl. root span, record, cleanup: added wall', diff(whole, 'wall')),
    row('whole run: added CPU', diff(whole, 'cpu')),
  ]);
}

/** /metrics render time with 10 targets × every probe family populated. */
export async function benchMetrics(n: number): Promise<void> {
  const m = new MetricsRegistry();
  for (let t = 0; t < 10; t++) {
    for (const name of Object.keys(CATALOG) as MetricName[]) {
      const labels: Record<string, string> = {};
      for (const l of labelNamesOf(name)) labels[l] = l === 'target' ? `target-${t}` : `${l}-v`;
      for (let v = 0; v < 4; v++) {
        const lv = { ...labels, ...(labels.probe ? { probe: `probe-${v}` } : {}) };
        if (m.kind(name) === 'histogram') m.observe(name, lv, Math.random(), 'a'.repeat(32));
        else if (m.kind(name) === 'counter') m.inc(name, lv, 1);
        else m.set(name, lv, Math.random());
      }
    }
  }
  const om: number[] = [];
  const text: number[] = [];
  let size = 0;
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    size = (await m.render(true)).body.length;
    om.push(performance.now() - t);
    t = performance.now();
    await m.render(false);
    text.push(performance.now() - t);
  }
  printRows('/metrics render, 10 targets × all families', [
    row('OpenMetrics with exemplars', om, 'ms', `${(size / 1024).toFixed(0)} KiB`),
    row('Prometheus text', text),
  ]);
}

/** Resident memory after many runs of a cheap probe (bounded run history). */
export async function benchMemory(runs: number): Promise<void> {
  const metrics = new MetricsRegistry();
  const runner = new Runner({
    metrics,
    tracing: new Tracing({ serviceName: 'bench', version: 'bench' }),
    store: new RunStore(),
  });
  const target = TargetSchema.parse({ name: 'local', cloud_provider: 'local' });
  const probe = defineProbe({
    name: 'bench.noop',
    family: 'host',
    description: 'records a few gauges',
    defaults: { interval: '1h', timeout: '1m' },
    // What a start sample adds around its SDK calls: three phase spans, three histogram
    // observations with exemplars, a few gauges.
    async run(ctx) {
      for (const phase of ['sandbox.create', 'sandbox.first_command', 'sandbox.kill']) {
        const { seconds } = await ctx.phase(phase, async () => undefined);
        ctx.observe('e2bbench_sandbox_phase_seconds', { template: 'base', start_type: 'warm', phase }, seconds);
      }
      for (let i = 0; i < 5; i++)
        ctx.gauge('e2bbench_cpu_events_per_second', { scope: 'host', threads: String(i) }, Math.random());
    },
  });
  const pc = { probe, enabled: true, intervalMs: 3_600_000, timeoutMs: 60_000, samples: 1, options: {} };
  global.gc?.();
  const before = process.memoryUsage().rss;
  const perRun: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await runner.run(pc, target, { trigger: 'cli' });
    perRun.push(performance.now() - t);
  }
  global.gc?.();
  const after = process.memoryUsage().rss;
  printRows(`Runner bookkeeping per run (no SDK calls), ${runs} runs`, [
    row('root span + 3 phase spans + 3 exemplar observations + 5 gauges + run record', perRun),
  ]);
  printRows(`Exporter memory after ${runs} runs`, [
    { name: 'RSS before', n: 1, p50: before / 2 ** 20, p95: before / 2 ** 20, unit: 'MiB' },
    { name: 'RSS after', n: 1, p50: after / 2 ** 20, p95: after / 2 ** 20, unit: 'MiB' },
  ]);
}

/**
 * What the exporter's own pieces of a start sample cost, alone and many times over (CPU-bound, so
 * the machine's load matters less): phase spans, histogram observations with exemplars on the
 * 70-bucket start histograms, and writing a run record to the SQLite history.
 */
export async function benchOverheadPieces(n: number): Promise<void> {
  const metrics = new MetricsRegistry();
  const tracing = new Tracing({ serviceName: 'bench', version: 'bench' });
  const labels = {
    target: 'local',
    cloud_provider: 'local',
    cloud_region: 'unknown',
    template: 'base',
    start_type: 'warm',
  };
  const each = (k: number, fn: () => unknown) => async () => {
    for (let i = 0; i < k; i++) await fn();
  };
  const perCall = async (k: number, fn: () => Promise<void>) => {
    const out: number[] = [];
    // In µs: each is far below a millisecond.
    for (let i = 0; i < n; i++) out.push(((await timed(fn)).cpu / k) * 1000);
    return out;
  };
  const spans = await perCall(
    200,
    each(200, () => tracing.tracer.startActiveSpan('sandbox.create', async (s) => s.end())),
  );
  const observe = await perCall(
    1000,
    each(1000, () => metrics.observe('e2bbench_sandbox_start_seconds', labels, Math.random(), 'a'.repeat(32), 'o')),
  );
  const dir = mkdtempSync(join(tmpdir(), 'e2bbench-bench-history-'));
  const history = RunHistory.open({ path: join(dir, 'history.sqlite'), retentionMs: 86_400_000 });
  const record = (i: number): RunRecord => ({
    id: `bench-${i}`,
    probe: 'lifecycle.warm_start',
    target: 'local',
    trigger: 'schedule',
    startedAt: new Date().toISOString(),
    endedAt: new Date().toISOString(),
    durationSeconds: 1,
    success: true,
    traceId: 'a'.repeat(32),
    phases: [],
    logs: [],
    details: {},
    metrics: Array.from({ length: 20 }, () => ({ name: 'e2bbench_sandbox_start_seconds', labels, value: 0.1 })),
    settings: { intervalSeconds: 60, timeoutSeconds: 60, samples: 10, options: {} },
  });
  let id = 0;
  const writeWall: number[] = [];
  const writeCpu: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const r = record(id++);
      const t = await timed(async () => {
        history.add(r);
        history.flush();
      });
      writeWall.push(t.wall);
      writeCpu.push(t.cpu);
    }
  } finally {
    await history.close();
    rmSync(dir, { recursive: true, force: true });
  }
  printRows('Exporter pieces of one start sample (per call)', [
    row('phase span (startActiveSpan + end), CPU', spans, 'µs', 'a start sample has 3 + the root'),
    row('histogram observation with exemplar (70 buckets), CPU', observe, 'µs', 'a start sample has 4'),
    row('run record written to the SQLite history, wall', writeWall, 'ms', 'once per run, on the event loop'),
    row('run record written to the SQLite history, CPU', writeCpu),
  ]);
}
