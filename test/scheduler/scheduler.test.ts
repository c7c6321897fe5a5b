import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Exporter } from '../../src/app/exporter.js';
import { main } from '../../src/cli/main.js';
import { buildConfig, type Config } from '../../src/config/load.js';
import { Dispatcher } from '../../src/dispatch/dispatcher.js';
import type { Probe } from '../../src/probe/types.js';
import { nextDue, Scheduler, startOffset } from '../../src/scheduler/scheduler.js';
import { MachineLock } from '../../src/dispatch/machine.js';
import { Slots } from '../../src/dispatch/slots.js';
import {
  advanceUntil,
  Gate,
  inlineProbe,
  makeRunner,
  sampleValue,
  sleep,
  useFakeClock,
  waitFor,
} from '../helpers/fake-probes.js';

// Exporter.start loads the real probe list; these tests need probes whose behaviour they control.
vi.mock('../../probes/index.js', async () => {
  const fakes = await import('../helpers/fake-probes.js');
  return { ALL_PROBES: fakes.FAKE_PROBES, probeByName: (n: string) => fakes.FAKE_PROBES.find((p) => p.name === n) };
});

describe('startOffset and nextDue', () => {
  it('start offset is in [0, min(interval, max offset))', () => {
    expect(startOffset(600_000, 120_000, 0)).toBe(0);
    const hi = startOffset(600_000, 120_000, 0.999);
    expect(hi).toBeGreaterThan(119_000);
    expect(hi).toBeLessThan(120_000);
    // A short interval bounds the offset instead of the 2 min cap.
    const short = startOffset(30_000, 120_000, 0.999);
    expect(short).toBeGreaterThan(29_000);
    expect(short).toBeLessThan(30_000);
    expect(startOffset(30_000, 0, 0.5)).toBe(0);
  });

  it('property: any r in [0, 1) gives an offset in range', () => {
    const bad: unknown[] = [];
    for (let i = 0; i < 5000; i++) {
      const r = Math.random();
      const interval = 1 + Math.floor(Math.random() * 3_600_000);
      const max = Math.floor(Math.random() * 300_000);
      const off = startOffset(interval, max, r);
      const bound = Math.min(interval, max);
      const ok = Number.isInteger(off) && off >= 0 && (bound > 0 ? off < bound : off === 0);
      if (!ok) bad.push({ r, interval, max, off });
    }
    expect(bad).toEqual([]);
  });

  it('next due is one interval later ± jitter', () => {
    expect(nextDue(1000, 60_000, 0.1, 0)).toBe(1000 + 54_000);
    expect(nextDue(1000, 60_000, 0.1, 0.5)).toBe(1000 + 60_000);
    const hi = nextDue(1000, 60_000, 0.1, 0.999);
    expect(hi).toBeGreaterThan(1000 + 65_000);
    expect(hi).toBeLessThan(1000 + 66_000);
    expect(nextDue(1000, 60_000, 0, 0.999)).toBe(61_000);
  });

  it('property: any r in [0, 1) keeps the next run within interval × (1 ± jitter)', () => {
    const bad: unknown[] = [];
    for (let i = 0; i < 5000; i++) {
      const prev = Math.floor(Math.random() * 1e12);
      const interval = 1000 + Math.floor(Math.random() * 3_600_000);
      const jitter = Math.random() * 0.5;
      const r = Math.random();
      const d = nextDue(prev, interval, jitter, r) - prev;
      // With jitter ≤ 0.5 time always moves forward by at least half an interval.
      const ok = d >= interval * (1 - jitter) - 1e-3 && d < interval * (1 + jitter) + 1e-3 && d >= interval / 2 - 1e-3;
      if (!ok) bad.push({ prev, interval, jitter, r, d });
    }
    expect(bad).toEqual([]);
  });
});

describe('Slots', () => {
  it('enforces the global and per-key caps and serves waiters whose key has room', async () => {
    const s = new Slots(2);
    expect(s.tryAcquire('a', 1)).toBe(true);
    expect(s.tryAcquire('a', 1)).toBe(false); // per-key cap
    expect(s.tryAcquire('b', 5)).toBe(true);
    expect(s.tryAcquire('c', 5)).toBe(false); // global cap
    expect(s.inUse()).toBe(2);
    const order: string[] = [];
    const wa = s.acquire('a', 1).then(() => order.push('a'));
    const wc = s.acquire('c', 5).then(() => order.push('c'));
    s.release('b'); // frees a global slot; 'a' is still at its cap, so 'c' goes first
    await wc;
    expect(order).toEqual(['c']);
    s.release('a');
    await wa;
    expect(order).toEqual(['c', 'a']);
    expect(s.inUse('a')).toBe(1);
    expect(s.inUse('c')).toBe(1);
  });

  it('an aborted waiter leaves the queue', async () => {
    const s = new Slots(1);
    s.tryAcquire('a', 1);
    const ac = new AbortController();
    const w = s.acquire('b', 1, ac.signal);
    ac.abort(new Error('stop'));
    await expect(w).rejects.toThrow('stop');
    s.release('a');
    expect(s.inUse()).toBe(0);
  });

  it('raising the global cap wakes waiters', async () => {
    const s = new Slots(1);
    s.tryAcquire('a', 5);
    const w = s.acquire('b', 5);
    s.setGlobalCap(2);
    await w;
    expect(s.inUse()).toBe(2);
  });
});

describe('MachineLock', () => {
  it('shared holders together, an exclusive one alone, in arrival order', async () => {
    const m = new MachineLock();
    expect(m.tryAcquire('shared')).toBe(true);
    expect(m.tryAcquire('shared')).toBe(true);
    expect(m.tryAcquire('exclusive')).toBe(false);
    expect(m.tryAcquire('none')).toBe(true);
    const order: string[] = [];
    const ex = m.acquire('exclusive').then(() => order.push('exclusive'));
    // A shared run arriving after a waiting exclusive one queues behind it (no starvation).
    expect(m.tryAcquire('shared')).toBe(false);
    const sh = m.acquire('shared').then(() => order.push('shared'));
    m.release('shared');
    m.release('shared');
    await ex;
    expect(order).toEqual(['exclusive']);
    m.release('exclusive');
    await sh;
    expect(order).toEqual(['exclusive', 'shared']);
  });

  it('an aborted waiter leaves the queue and lets the next one in', async () => {
    const m = new MachineLock();
    m.tryAcquire('shared');
    const ac = new AbortController();
    const ex = m.acquire('exclusive', ac.signal);
    const sh = m.acquire('shared');
    ac.abort(new Error('stop'));
    await expect(ex).rejects.toThrow('stop');
    await sh;
    expect(m.tryAcquire('exclusive')).toBe(false);
  });
});

/** The fake probes run per target (non-host): no start window unless a test asks for one. */
function testConfig(doc: Record<string, unknown>, probes: Probe[]) {
  const scheduler = { max_start_offset: '0s', ...(doc.scheduler as object | undefined) };
  return buildConfig({ ...doc, scheduler }, probes, { env: {} });
}

/** A scheduler over fake probes, with everything it started stopped in afterEach. */
function harness(doc: Record<string, unknown>, probes: Probe[], random: () => number = () => 0) {
  const cfg = testConfig(doc, probes);
  const { runner, metrics, store, tracing } = makeRunner({ abortGraceMs: 100 });
  const dispatcher = new Dispatcher({ runner, metrics });
  const sched = new Scheduler(dispatcher, {
    jitterRatio: cfg.raw.scheduler.jitter_ratio,
    maxStartOffsetMs: cfg.raw.scheduler.max_start_offset,
    random,
  });
  /** What the exporter does on (re)load: the dispatcher takes the config, the scheduler its pairs. */
  const apply = (c: Config) => {
    dispatcher.configure(c, c.targets);
    sched.apply(dispatcher.pairs(), {
      jitterRatio: c.raw.scheduler.jitter_ratio,
      maxStartOffsetMs: c.raw.scheduler.max_start_offset,
    });
  };
  const h = { cfg, runner, metrics, store, tracing, dispatcher, sched, probes, apply };
  cleanups.push(async () => {
    sched.stop();
    dispatcher.stop();
    await waitFor(() => runner.runningCount() === 0, 5000, 'runs to end');
    await tracing.shutdown();
  });
  return h;
}
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  while (cleanups.length) await cleanups.pop()!();
});

/** Stops a harness whose runs wait on the fake clock, lets them end, then goes back to real time. */
async function stopOnFakeClock(h: ReturnType<typeof harness>): Promise<void> {
  h.sched.stop();
  h.dispatcher.stop();
  await advanceUntil(() => h.runner.runningCount() === 0, 5000, 'runs to end');
  vi.useRealTimers();
}

/** Counts runs in flight overall and per target, remembering the maxima. */
class Concurrency {
  now = 0;
  max = 0;
  perTarget = new Map<string, number>();
  maxPerTarget = new Map<string, number>();
  enter(t: string) {
    this.now++;
    this.max = Math.max(this.max, this.now);
    const n = (this.perTarget.get(t) ?? 0) + 1;
    this.perTarget.set(t, n);
    this.maxPerTarget.set(t, Math.max(this.maxPerTarget.get(t) ?? 0, n));
  }
  leave(t: string) {
    this.now--;
    this.perTarget.set(t, this.perTarget.get(t)! - 1);
  }
}

/** A loopback sandbox service nobody dials: the probes that need one here are fakes. */
const LOOPBACK = { api_url: 'http://127.0.0.1:1', sandbox_url: 'http://127.0.0.1:1' };

const text = async (h: { metrics: { render(om: boolean): Promise<{ body: string }> } }) =>
  (await h.metrics.render(false)).body;

describe('scheduler', () => {
  it('skips a run that is due while the previous one is still going, counting it as overlap (fake clock)', async () => {
    useFakeClock();
    const gate = new Gate();
    const c = new Concurrency();
    let starts = 0;
    // The measurement is quick but its cleanup (think: killing a sandbox) is slow: the run outlasts
    // its interval although timeout ≤ interval.
    const probe = inlineProbe('fake.slowclean', async (ctx) => {
      starts++;
      c.enter(ctx.target.name);
      ctx.defer('slow cleanup', async () => {
        await gate.wait();
        c.leave(ctx.target.name);
      });
    });
    const h = harness(
      {
        targets: [{ name: 'a', cloud_provider: 'local' }],
        probes: { 'fake.slowclean': { interval: '100ms', timeout: '100ms' } },
      },
      [probe],
    );
    h.apply(h.cfg);
    await advanceUntil(() => gate.waiting === 1, 1000, 'first run');
    const labels = { target: 'a', cloud_provider: 'local', cloud_region: 'unknown', probe: 'fake.slowclean' };
    // Due at 100, 200, 300 ms of fake time while the first run still cleans up: three overlaps.
    await vi.advanceTimersByTimeAsync(350);
    const skipped = sampleValue(await text(h), 'e2bbench_probe_skipped_total', { ...labels, reason: 'overlap' });
    expect(skipped).toBeGreaterThanOrEqual(3);
    expect(skipped).toBeLessThanOrEqual(4);
    expect(starts).toBe(1);
    expect(c.maxPerTarget.get('a')).toBe(1);
    gate.open();
    await advanceUntil(() => h.store.list().length >= 1, 1000, 'the run record');
    expect(h.store.list().at(-1)!.success).toBe(true);
    // Once the slow run is over, the job runs again.
    await advanceUntil(() => starts >= 2, 1000, 'a second run');
    expect(c.maxPerTarget.get('a')).toBe(1);
    gate.open();
    await stopOnFakeClock(h);
  });

  it('global cap 1 with two targets: never two runs at once, both targets still run (fake clock)', async () => {
    useFakeClock();
    const c = new Concurrency();
    const perTarget = new Map<string, number>();
    const probe = inlineProbe('fake.work', async (ctx) => {
      c.enter(ctx.target.name);
      perTarget.set(ctx.target.name, (perTarget.get(ctx.target.name) ?? 0) + 1);
      await sleep(20);
      c.leave(ctx.target.name);
    });
    const h = harness(
      {
        scheduler: { max_concurrent_runs: 1 },
        targets: [
          { name: 'a', cloud_provider: 'local', max_concurrent_runs: 5 },
          { name: 'b', cloud_provider: 'local', max_concurrent_runs: 5 },
        ],
        probes: { 'fake.work': { interval: '100ms', timeout: '100ms' } },
      },
      [probe],
      (() => {
        let i = 0;
        return () => [0.1, 0.7, 0.4, 0.9][i++ % 4];
      })(),
    );
    h.apply(h.cfg);
    await advanceUntil(() => (perTarget.get('a') ?? 0) >= 3 && (perTarget.get('b') ?? 0) >= 3, 2000, '3 runs each');
    expect(c.max).toBe(1);
    await stopOnFakeClock(h);
  });

  it('global cap 2: both targets do run at the same time (the counter above can see overlap)', async () => {
    useFakeClock();
    const c = new Concurrency();
    const probe = inlineProbe('fake.pair', async (ctx) => {
      c.enter(ctx.target.name);
      // Hold until the other target's run has started too, or give up after 2 s.
      const end = Date.now() + 2000;
      while (c.max < 2 && Date.now() < end) await sleep(5);
      c.leave(ctx.target.name);
    });
    const h = harness(
      {
        scheduler: { max_concurrent_runs: 2 },
        targets: [
          { name: 'a', cloud_provider: 'local' },
          { name: 'b', cloud_provider: 'local' },
        ],
        probes: { 'fake.pair': { interval: '1h' } },
      },
      [probe],
    );
    h.apply(h.cfg);
    await advanceUntil(() => h.store.list().length === 2, 5000, 'two runs');
    expect(c.max).toBe(2);
    await stopOnFakeClock(h);
  });

  it('per-target cap: two probes on a target with max_concurrent_runs 1 never overlap; with 2 they do', async () => {
    useFakeClock();
    const c = new Concurrency();
    const body = async (ctx: { target: { name: string } }) => {
      c.enter(ctx.target.name);
      const end = Date.now() + 300;
      while ((c.perTarget.get(ctx.target.name) ?? 0) < 2 && Date.now() < end) await sleep(5);
      c.leave(ctx.target.name);
    };
    const probes = [inlineProbe('fake.one', body), inlineProbe('fake.two', body)];
    const h = harness(
      {
        scheduler: { max_concurrent_runs: 4 },
        targets: [
          { name: 'narrow', cloud_provider: 'local', max_concurrent_runs: 1 },
          { name: 'wide', cloud_provider: 'local', max_concurrent_runs: 2 },
        ],
        probes: { 'fake.one': { interval: '1h' }, 'fake.two': { interval: '1h' } },
      },
      probes,
    );
    h.apply(h.cfg);
    await advanceUntil(() => h.store.list().length === 4, 5000, 'four runs');
    expect(c.maxPerTarget.get('narrow')).toBe(1);
    expect(c.maxPerTarget.get('wide')).toBe(2);
    expect(h.store.list().every((r) => r.success)).toBe(true);
    await stopOnFakeClock(h);
  });

  it('uses the injected random source for the first run time', () => {
    const probe: Probe = { ...inlineProbe('fake.idle', async () => undefined), requires: ['sandbox'] };
    const doc = (interval: string) => ({
      scheduler: { max_start_offset: '2m' },
      targets: [{ name: 'a', cloud_provider: 'local', e2b: LOOPBACK }],
      probes: { 'fake.idle': { interval } },
    });
    const late = harness(doc('10m'), [probe], () => 0.999);
    const before = Date.now();
    late.apply(late.cfg);
    const [job] = late.sched.status();
    const offset = Date.parse(job.nextRunAt!) - before;
    expect(offset).toBeGreaterThan(118_000);
    expect(offset).toBeLessThanOrEqual(120_000);
    expect(job).toMatchObject({ probe: 'fake.idle', target: 'a', intervalSeconds: 600, running: false });

    const short = harness(doc('30s'), [probe], () => 0.999);
    short.apply(short.cfg);
    const offset2 = Date.parse(short.sched.status()[0].nextRunAt!) - Date.now();
    expect(offset2).toBeLessThan(30_000);
    expect(offset2).toBeGreaterThan(28_000);
  });

  it('gives host probes their first run within 5 s, whatever the start window', () => {
    const host = { ...inlineProbe('fake.host', async () => undefined), family: 'host' as const };
    const h = harness(
      {
        scheduler: { max_start_offset: '2m' },
        targets: [{ name: 'a', cloud_provider: 'local' }],
        probes: { 'fake.host': { interval: '10m' } },
      },
      [host],
      () => 0.999,
    );
    const before = Date.now();
    h.apply(h.cfg);
    // The scheduler reads the clock after the dispatcher took the config: allow that much.
    const configuring = Date.now() - before;
    const offset = Date.parse(h.sched.status()[0].nextRunAt!) - before;
    expect(offset).toBeGreaterThan(4_000);
    expect(offset).toBeLessThanOrEqual(5_000 + configuring);

    // Sandbox probes leave those first seconds to the host probes.
    const other: Probe = { ...inlineProbe('fake.sbx', async () => undefined), requires: ['sandbox'] };
    const o = harness(
      {
        scheduler: { max_start_offset: '2m' },
        targets: [{ name: 'a', cloud_provider: 'local', e2b: LOOPBACK }],
        probes: { 'fake.sbx': { interval: '10m' } },
      },
      [other],
      () => 0,
    );
    const t0 = Date.now();
    o.apply(o.cfg);
    expect(Date.parse(o.sched.status()[0].nextRunAt!) - t0).toBeGreaterThanOrEqual(4_900);
  });

  it('sets the scheduler lag and interval gauges', async () => {
    const probe = inlineProbe('fake.lag', async () => undefined);
    const h = harness(
      { targets: [{ name: 'a', cloud_provider: 'local' }], probes: { 'fake.lag': { interval: '1h' } } },
      [probe],
    );
    h.apply(h.cfg);
    await waitFor(() => h.store.list().length === 1, 3000, 'a run');
    await waitFor(() => !h.runner.isRunning('fake.lag', 'a'));
    const body = await text(h);
    const lag = sampleValue(body, 'e2bbench_scheduler_lag_seconds', { probe: 'fake.lag', target: 'a' });
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(60);
    expect(sampleValue(body, 'e2bbench_probe_interval_seconds', { target: 'a', probe: 'fake.lag' })).toBe(3600);
    expect(
      sampleValue(body, 'e2bbench_probe_runs_total', { target: 'a', probe: 'fake.lag', trigger: 'schedule' }),
    ).toBe(1);
  });

  it("reload while a probe runs: the run finishes and is recorded; the removed target's series go after it", async () => {
    const gate = new Gate();
    const probe = inlineProbe('fake.gated', async (ctx) => {
      await gate.wait(ctx.signal);
      ctx.gauge('e2bbench_cpu_events_per_second', { scope: 'host', threads: '1' }, 1);
    });
    const doc = (targets: string[]) => ({
      scheduler: { max_concurrent_runs: 4 },
      targets: targets.map((name) => ({ name, cloud_provider: 'local' })),
      probes: { 'fake.gated': { interval: '1h' } },
    });
    const h = harness(doc(['a', 'b']), [probe]);
    h.apply(h.cfg);
    await waitFor(() => gate.waiting === 2, 3000, 'both runs to start');
    expect(await text(h)).toContain('target="b"');

    h.apply(testConfig(doc(['a', 'c']), [probe]));
    // b's run keeps going; c starts.
    await waitFor(() => gate.waiting === 3, 3000, 'the new target to start');
    expect(h.runner.isRunning('fake.gated', 'b')).toBe(true);
    expect(
      h.sched
        .status()
        .map((j) => j.target)
        .sort(),
    ).toEqual(['a', 'c']);

    gate.open();
    await waitFor(() => h.store.list().length === 3 && h.runner.runningCount() === 0, 3000, 'three records');
    const b = h.store.list({ target: 'b' });
    expect(b).toHaveLength(1);
    expect(b[0].success).toBe(true);
    const body = await text(h);
    expect(body).not.toContain('target="b"');
    expect(sampleValue(body, 'e2bbench_probe_success', { target: 'a', probe: 'fake.gated' })).toBe(1);
    expect(sampleValue(body, 'e2bbench_probe_success', { target: 'c', probe: 'fake.gated' })).toBe(1);
  });

  it('a target removed and added back while its run goes on keeps its series', async () => {
    const gate = new Gate();
    const probe = inlineProbe('fake.back', async (ctx) => {
      await gate.wait(ctx.signal);
    });
    const doc = (targets: string[]) => ({
      scheduler: { max_concurrent_runs: 4 },
      targets: targets.map((name) => ({ name, cloud_provider: 'local' })),
      probes: { 'fake.back': { interval: '1h' } },
    });
    const h = harness(doc(['a', 'b']), [probe]);
    h.apply(h.cfg);
    await waitFor(() => gate.waiting === 2, 3000, 'both runs to start');
    h.apply(testConfig(doc(['a']), [probe]));
    h.apply(testConfig(doc(['a', 'b']), [probe]));
    gate.open();
    await waitFor(() => h.store.list().length >= 2 && h.runner.runningCount() === 0, 3000, 'the runs to end');
    const labels = { target: 'b', cloud_provider: 'local', cloud_region: 'unknown', probe: 'fake.back' };
    const body = await text(h);
    expect(sampleValue(body, 'e2bbench_probe_interval_seconds', labels)).toBe(3600);
    expect(sampleValue(body, 'e2bbench_probe_success', labels)).toBe(1);
  });

  it('reload removing a probe drops its series; reload changing the interval re-arms the job', async () => {
    const p1 = inlineProbe('fake.keep', async () => undefined);
    const p2 = inlineProbe('fake.drop', async () => undefined);
    const doc = (probes: Record<string, unknown>) => ({ targets: [{ name: 'a', cloud_provider: 'local' }], probes });
    const h = harness(doc({ 'fake.keep': { interval: '1h' }, 'fake.drop': { interval: '1h' } }), [p1, p2]);
    h.apply(h.cfg);
    await waitFor(() => h.store.list().length === 2 && h.runner.runningCount() === 0, 3000, 'two runs');
    expect(await text(h)).toContain('probe="fake.drop"');

    h.apply(testConfig(doc({ 'fake.keep': { interval: '2h' }, 'fake.drop': { enabled: false } }), [p1, p2]));
    const body = await text(h);
    expect(body).not.toContain('probe="fake.drop"');
    expect(sampleValue(body, 'e2bbench_probe_interval_seconds', { target: 'a', probe: 'fake.keep' })).toBe(7200);
    expect(h.sched.status()).toHaveLength(1);
    // The re-armed job runs again (offset 0 from the injected random source).
    await waitFor(() => h.store.list({ probe: 'fake.keep' }).length === 2, 3000, 'a rerun');
  });

  it('shutdown (scheduler and dispatcher stopped) aborts waiting runs and arms nothing more (fake clock)', async () => {
    useFakeClock();
    const c = new Concurrency();
    const probe = inlineProbe('fake.stop', async (ctx) => {
      c.enter(ctx.target.name);
      await sleep(30);
      c.leave(ctx.target.name);
    });
    const h = harness(
      {
        scheduler: { max_concurrent_runs: 1 },
        targets: [
          { name: 'a', cloud_provider: 'local' },
          { name: 'b', cloud_provider: 'local' },
        ],
        probes: { 'fake.stop': { interval: '100ms', timeout: '100ms' } },
      },
      [probe],
    );
    h.apply(h.cfg);
    await advanceUntil(() => h.store.list().length >= 2, 1000, 'runs');
    await stopOnFakeClock(h);
    useFakeClock();
    const n = h.store.list().length;
    // Ten intervals later nothing more has run.
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.store.list().length).toBe(n);
    vi.useRealTimers();
  });
});

describe('exclusive use of this machine (fake clock)', () => {
  beforeEach(() => useFakeClock());
  /** Two probes that each hold until the other has started too, or 300 ms have passed. */
  function pairOfProbes(c: Concurrency, a: Partial<Probe>, b: Partial<Probe>): Probe[] {
    const body = async (ctx: { target: { name: string } }) => {
      c.enter(ctx.target.name);
      const end = Date.now() + 300;
      while (c.max < 2 && Date.now() < end) await sleep(5);
      c.leave(ctx.target.name);
    };
    return [
      { ...inlineProbe('fake.first', body), ...a },
      { ...inlineProbe('fake.second', body), ...b },
    ];
  }
  const host: Partial<Probe> = { family: 'host', load: ['cpu'] };
  const localBench: Partial<Probe> = { family: 'sandbox', requires: ['sandbox'], load: ['cpu'] };
  const lifecycle: Partial<Probe> = { family: 'lifecycle', requires: ['sandbox'] };
  // Slots would keep them apart on their own: there are enough of them here.
  const doc = (targets: Record<string, unknown>[], exclusive = true) => ({
    scheduler: { max_concurrent_runs: 4, max_start_offset: '0s', exclusive_load: exclusive },
    targets: targets.map((t) => ({ max_concurrent_runs: 4, ...t })),
    probes: { 'fake.first': { interval: '1h' }, 'fake.second': { interval: '1h' } },
  });

  it('a host probe and a sandbox probe on a loopback local runtime, both due, never run at the same time', async () => {
    const c = new Concurrency();
    const probes = pairOfProbes(c, host, localBench);
    const h = harness(doc([{ name: 'local', cloud_provider: 'local', e2b: LOOPBACK }]), probes);
    h.apply(h.cfg);
    await advanceUntil(() => h.store.list().length === 2, 5000, 'both runs');
    expect(c.max).toBe(1);
    const records = h.store.list();
    expect(records.every((r) => r.success && r.machine?.use === 'exclusive')).toBe(true);
    // The one that came second says it waited, and about as long as the first one ran.
    const waited = Math.max(...records.map((r) => r.machine!.waitedSeconds));
    expect(waited).toBeGreaterThan(0.2);
  });

  it('with exclusive_load off the same two do overlap (the counter above can see it)', async () => {
    const c = new Concurrency();
    const h = harness(
      doc([{ name: 'local', cloud_provider: 'local', e2b: LOOPBACK }], false),
      pairOfProbes(c, host, localBench),
    );
    h.apply(h.cfg);
    await advanceUntil(() => h.store.list().length === 2, 5000, 'both runs');
    expect(c.max).toBe(2);
    expect(h.store.list().every((r) => r.machine === undefined)).toBe(true);
  });

  it('two lifecycle probes on remote targets may run at the same time, as may benchmarks on them', async () => {
    for (const kind of [lifecycle, localBench]) {
      const c = new Concurrency();
      const h = harness(
        doc([
          { name: 'r1', cloud_provider: 'aws', e2b: { domain: 'e2b.example.com', api_key: 'k' } },
          { name: 'r2', cloud_provider: 'gcp', e2b: { domain: 'e2b.example.org', api_key: 'k' } },
        ]),
        pairOfProbes(c, kind, kind),
      );
      h.apply(h.cfg);
      await advanceUntil(() => h.store.list().length === 4, 5000, 'four runs');
      expect(c.max).toBe(2);
      expect(h.store.list().every((r) => r.machine === undefined)).toBe(true);
    }
  });

  it('lifecycle probes on a local runtime share the machine with each other', async () => {
    const c = new Concurrency();
    const h = harness(
      doc([{ name: 'local', cloud_provider: 'local', e2b: LOOPBACK }]),
      pairOfProbes(c, lifecycle, lifecycle),
    );
    h.apply(h.cfg);
    await advanceUntil(() => h.store.list().length === 2, 5000, 'both runs');
    expect(c.max).toBe(2);
    expect(h.store.list().every((r) => r.machine?.use === 'shared')).toBe(true);
  });
});

describe('cron schedules', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a cron-scheduled probe runs at its minute (fake clock), and status shows the next run', async () => {
    vi.useFakeTimers({ now: new Date('2026-03-01T02:58:30Z') });
    const probe = inlineProbe('fake.nightly', async () => undefined);
    const h = harness(
      {
        targets: [{ name: 'a', cloud_provider: 'local' }],
        probes: { 'fake.nightly': { schedule: '0 3 * * *', timezone: 'UTC' } },
      },
      [probe],
    );
    h.apply(h.cfg);
    expect(h.sched.status()).toEqual([
      expect.objectContaining({
        probe: 'fake.nightly',
        schedule: '0 3 * * * UTC',
        nextRunAt: '2026-03-01T03:00:00.000Z',
      }),
    ]);
    expect(h.sched.status()[0].intervalSeconds).toBeUndefined();
    await vi.advanceTimersByTimeAsync(60_000); // 02:59:30
    expect(h.store.list()).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(31_000); // 03:00:01
    const [run] = h.store.list();
    expect(run).toMatchObject({ probe: 'fake.nightly', trigger: 'schedule', success: true });
    // At its minute: node-cron's timer fires a millisecond past it.
    const late = Date.parse(run.startedAt) - Date.parse('2026-03-01T03:00:00Z');
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1000);
    expect(h.sched.status()[0].nextRunAt).toBe('2026-03-02T03:00:00.000Z');
    // A time zone moves the minute: 03:00 in Tokyo is 18:00 UTC.
    h.apply(
      buildConfig(
        {
          targets: [{ name: 'a', cloud_provider: 'local' }],
          probes: { 'fake.nightly': { schedule: '0 3 * * *', timezone: 'Asia/Tokyo' } },
        },
        [probe],
        { env: {} },
      ),
    );
    expect(h.sched.status()[0].nextRunAt).toBe('2026-03-01T18:00:00.000Z');
  });

  it('check-config names the path of a bad cron expression, a bad time zone and interval + schedule', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'e2bbench-cron-'));
    try {
      const file = join(dir, 'config.yaml');
      await writeFile(
        file,
        [
          'probes:',
          '  fake.ok: { schedule: "61 * * * *" }',
          '  fake.fail: { schedule: "0 3 * * *", timezone: Mars/Olympus }',
          '  fake.block: { schedule: "0 3 * * *", interval: 1h }',
          '',
        ].join('\n'),
      );
      let stderr = '';
      const spy = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
        stderr += String(c);
        return true;
      });
      let code: number;
      try {
        code = await main(['check-config', file]);
      } finally {
        spy.mockRestore();
      }
      expect(code).toBe(2);
      expect(stderr).toContain('probes["fake.ok"].schedule: invalid cron expression "61 * * * *"');
      expect(stderr).toContain('probes["fake.fail"].timezone: unknown time zone "Mars/Olympus"');
      expect(stderr).toContain('probes["fake.block"].schedule: set either interval or schedule, not both');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('`e2b-bench probes --config` shows a cron schedule with its next run', async () => {
    vi.useFakeTimers({ now: new Date('2026-03-01T02:58:30Z'), toFake: ['Date'] });
    const dir = await mkdtemp(join(tmpdir(), 'e2bbench-cron-'));
    try {
      const file = join(dir, 'config.yaml');
      await writeFile(file, 'probes:\n  fake.ok: { schedule: "30 4 * * *", timezone: UTC }\n');
      let stdout = '';
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
        stdout += String(c);
        return true;
      });
      try {
        expect(await main(['probes', '--config', file])).toBe(0);
      } finally {
        spy.mockRestore();
      }
      const line = stdout.split('\n').find((l) => l.startsWith('fake.ok'))!;
      expect(line).toContain('cron "30 4 * * *" UTC, next 2026-03-01T04:30:00.000Z');
      expect(stdout.split('\n').find((l) => l.startsWith('fake.fail'))).toMatch(/every 1h/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('exporter reload', () => {
  let dir: string;
  let file: string;
  let exp: Exporter | undefined;
  const logs: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'e2bbench-reload-'));
    file = join(dir, 'config.yaml');
  });
  afterEach(async () => {
    await exp?.stop();
    exp = undefined;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const allDisabled = `probes:\n  fake.ok: { enabled: false }\n  fake.fail: { enabled: false }\n  fake.block: { enabled: false }\n`;
  const targets = (...names: string[]) =>
    `targets:\n${names.map((n) => `  - { name: ${n}, cloud_provider: local, cloud_region: r1 }`).join('\n')}\n`;
  const gauge = async (e: Exporter, name: string, labels: Record<string, string> = {}) =>
    sampleValue((await e.metrics.render(false)).body, name, labels);

  it('a bad reload keeps the old config, sets last_reload_successful 0 and says why; a good one applies', async () => {
    await writeFile(file, targets('a', 'b') + allDisabled);
    exp = await Exporter.start({ configFile: file, serve: false, env: {}, log: (l) => logs.push(l) });
    expect(exp.targets.map((t) => t.name)).toEqual(['a', 'b']);
    expect(await gauge(exp, 'e2bbench_config_last_reload_successful')).toBe(1);
    expect(await gauge(exp, 'e2bbench_target_info', { target: 'b' })).toBe(1);

    await writeFile(
      file,
      `targets:\n  - { name: a, cloud_provider: mars }\n  - { name: b, cloud_provider: local, pricing: { hourly_usd: abc } }\nbogus: 1\n`,
    );
    const bad = await exp.reload();
    expect(bad.ok).toBe(false);
    expect(bad.errors).toHaveLength(3);
    expect(bad.errors).toContain('targets[1].pricing.hourly_usd: expected number, got "abc"');
    expect(bad.errors).toContain('bogus: unknown key');
    expect(await gauge(exp, 'e2bbench_config_last_reload_successful')).toBe(0);
    expect(exp.targets.map((t) => t.name)).toEqual(['a', 'b']);
    expect(exp.config.targets.map((t) => t.cloud_provider)).toEqual(['local', 'local']);
    expect(await gauge(exp, 'e2bbench_target_info', { target: 'b' })).toBe(1);
    expect(logs.some((l) => l.includes('keeping the running config') && l.includes('bogus: unknown key'))).toBe(true);

    await writeFile(file, 'targets: [\n');
    expect((await exp.reload()).ok).toBe(false);
    expect(exp.targets.map((t) => t.name)).toEqual(['a', 'b']);

    await writeFile(file, targets('a', 'c') + allDisabled);
    expect(await exp.reload()).toEqual({ ok: true });
    expect(exp.targets.map((t) => t.name)).toEqual(['a', 'c']);
    expect(await gauge(exp, 'e2bbench_config_last_reload_successful')).toBe(1);
    expect(await gauge(exp, 'e2bbench_target_info', { target: 'b' })).toBeUndefined();
    expect(await gauge(exp, 'e2bbench_target_info', { target: 'c' })).toBe(1);
  });

  it('a removed file is a failed reload, not a crash', async () => {
    await writeFile(file, targets('a') + allDisabled);
    exp = await Exporter.start({ configFile: file, serve: false, env: {} });
    await rm(file);
    const r = await exp.reload();
    expect(r.ok).toBe(false);
    expect(r.errors?.[0]).toMatch(/cannot read \(ENOENT\)/);
    expect(exp.targets.map((t) => t.name)).toEqual(['a']);
  });

  it('reload while a scheduled run is going: it finishes, is recorded, and its target series go', async () => {
    const { blockGate } = await import('../helpers/fake-probes.js');
    blockGate.reset();
    await writeFile(
      file,
      `scheduler: { max_start_offset: 0s }\n${targets('a', 'b')}probes:\n  fake.ok: { enabled: false }\n  fake.fail: { enabled: false }\n  fake.block: { interval: 1h, targets: [b] }\n`,
    );
    exp = await Exporter.start({ configFile: file, serve: false, env: {} });
    const e = exp;
    await waitFor(() => e.runner.isRunning('fake.block', 'b'), 3000, 'the scheduled run');
    await writeFile(file, targets('a') + allDisabled);
    expect(await e.reload()).toEqual({ ok: true });
    expect(e.runner.isRunning('fake.block', 'b')).toBe(true);
    blockGate.open();
    await waitFor(() => e.runner.runningCount() === 0, 3000, 'the run to end');
    const [run] = e.store.list({ target: 'b' });
    expect(run).toMatchObject({ probe: 'fake.block', success: true, trigger: 'schedule' });
    expect((await e.metrics.render(false)).body).not.toContain('target="b"');
    blockGate.reset();
  });
});
