import type { Server } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildConfig } from '../../src/config/load.js';
import type { Admission } from '../../src/dispatch/admission.js';
import { Dispatcher } from '../../src/dispatch/dispatcher.js';
import { createHttpApp, listen } from '../../src/http/server.js';
import type { Probe, Trigger } from '../../src/probe/types.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { Gate, inlineProbe, makeRunner, sampleValue, sleep, waitFor } from '../helpers/fake-probes.js';

// One admission table, run through the three ways a run starts: the scheduler (its dispatch calls
// observed with a spy that lets them through), POST /probe over a real HTTP server, and the
// dispatcher call the CLI makes. Each row sets up a state, then asks for one run.

const hold = new Gate();
const holdProbe = inlineProbe('fake.hold', async (ctx) => hold.wait(ctx.signal));
const quickProbe = inlineProbe('fake.quick', async () => undefined);
// Needs sandboxes, so the sandbox budget applies.
const sandboxProbe: Probe = {
  ...inlineProbe('fake.sandbox', async () => undefined),
  family: 'lifecycle',
  requires: ['sandbox'],
};
const probes = [holdProbe, quickProbe, sandboxProbe];

type Outcome = 'started' | 'waits' | 'busy:overlap' | 'busy:concurrency' | 'skipped:overlap' | 'skipped:budget';

interface Row {
  state: string;
  /** What is already running (started with trigger cli) when the run is asked for. */
  running?: { probe: string; target: string };
  globalCap?: number;
  budgetUsedUp?: boolean;
  ask: { probe: string; target: string };
  expect: Record<Trigger, Outcome>;
}

const TABLE: Row[] = [
  {
    state: 'nothing running',
    ask: { probe: 'fake.quick', target: 'a' },
    expect: { schedule: 'started', on_demand: 'started', cli: 'started' },
  },
  {
    state: 'the same probe running on the same target',
    running: { probe: 'fake.hold', target: 'a' },
    ask: { probe: 'fake.hold', target: 'a' },
    expect: { schedule: 'skipped:overlap', on_demand: 'busy:overlap', cli: 'busy:overlap' },
  },
  {
    state: 'the same probe running on another target',
    running: { probe: 'fake.hold', target: 'b' },
    ask: { probe: 'fake.hold', target: 'a' },
    expect: { schedule: 'started', on_demand: 'started', cli: 'started' },
  },
  {
    state: "the target's slots taken (max_concurrent_runs 1)",
    running: { probe: 'fake.hold', target: 'a' },
    ask: { probe: 'fake.quick', target: 'a' },
    expect: { schedule: 'waits', on_demand: 'busy:concurrency', cli: 'waits' },
  },
  {
    state: 'the global slots taken (scheduler.max_concurrent_runs 1)',
    globalCap: 1,
    running: { probe: 'fake.hold', target: 'b' },
    ask: { probe: 'fake.quick', target: 'a' },
    expect: { schedule: 'waits', on_demand: 'busy:concurrency', cli: 'waits' },
  },
  {
    state: 'the sandbox budget used up, probe needs sandboxes',
    budgetUsedUp: true,
    ask: { probe: 'fake.sandbox', target: 'a' },
    expect: { schedule: 'skipped:budget', on_demand: 'skipped:budget', cli: 'skipped:budget' },
  },
  {
    state: 'the sandbox budget used up, probe needs none',
    budgetUsedUp: true,
    ask: { probe: 'fake.quick', target: 'a' },
    expect: { schedule: 'started', on_demand: 'started', cli: 'started' },
  },
];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  hold.open();
  while (cleanups.length) await cleanups.pop()!();
  hold.reset();
});

async function setUp(row: Row) {
  const cfg = buildConfig(
    {
      scheduler: { max_concurrent_runs: row.globalCap ?? 4, max_start_offset: '0s' },
      targets: [
        // A sandbox service nobody dials (the probes here are fakes): sandbox probes apply to it.
        {
          name: 'a',
          cloud_provider: 'local',
          max_concurrent_runs: 1,
          e2b: { api_url: 'http://127.0.0.1:1', sandbox_url: 'http://127.0.0.1:1' },
        },
        { name: 'b', cloud_provider: 'local' },
      ],
      probes: { 'fake.hold': { interval: '1h' }, 'fake.quick': { interval: '1h' }, 'fake.sandbox': { interval: '1h' } },
    },
    probes,
    { env: {} },
  );
  const { runner, metrics, store, tracing } = makeRunner({ abortGraceMs: 100 });
  const dispatcher = new Dispatcher({
    runner,
    metrics,
    budgetRefusal: () => (row.budgetUsedUp ? 'global budget of 1 sandbox-minutes per hour used up' : undefined),
  });
  dispatcher.configure(cfg, cfg.targets);
  cleanups.push(async () => {
    dispatcher.stop();
    await waitFor(() => runner.runningCount() === 0, 5000, 'runs to end');
    await tracing.shutdown();
  });
  const pair = (p: { probe: string; target: string }) => {
    const r = dispatcher.resolve(p.probe, p.target);
    if (!r.ok) throw new Error(r.message);
    return r.pair;
  };
  if (row.running) {
    const a = await dispatcher.dispatch({ pair: pair(row.running), trigger: 'cli' });
    expect(a.kind).toBe('started');
    await waitFor(() => hold.waiting === 1, 3000, 'the running probe');
  }
  return { cfg, runner, metrics, store, dispatcher, asked: pair(row.ask) };
}

/** Settles `p` into an outcome; a run that has not been admitted shortly after the ask is one that waits. */
async function outcome(p: Promise<Admission>): Promise<Outcome | `${Admission['kind']}:${string}`> {
  const early = await Promise.race([p, sleep(150).then(() => undefined)]);
  if (!early) return 'waits';
  return early.kind === 'started' ? 'started' : `${early.kind}:${early.reason}`;
}

/** A waiting run must start once the running one ends. */
async function startsAfterRelease(p: Promise<Admission>) {
  hold.open();
  expect((await p).kind).toBe('started');
}

describe.each(TABLE)('admission: $state', (row) => {
  it(`cli → ${row.expect.cli}`, async () => {
    const { dispatcher, asked } = await setUp(row);
    const p = dispatcher.dispatch({ pair: asked, trigger: 'cli' });
    expect(await outcome(p)).toBe(row.expect.cli);
    if (row.expect.cli === 'waits') await startsAfterRelease(p);
  });

  it(`POST /probe → ${row.expect.on_demand}`, async () => {
    const env = await setUp(row);
    const scheduler = new Scheduler(env.dispatcher, { jitterRatio: 0, maxStartOffsetMs: 0 });
    const server: Server = await listen(
      createHttpApp({
        version: 'test',
        metrics: env.metrics,
        store: env.store,
        dispatcher: env.dispatcher,
        scheduler,
        config: () => env.cfg,
        reload: async () => ({ ok: true }),
        ready: () => true,
      }),
      '127.0.0.1:0',
    );
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const answer = fetch(`http://127.0.0.1:${port}/probe/${row.ask.probe}?target=${row.ask.target}`, {
      method: 'POST',
    });
    const expected = row.expect.on_demand;
    // HTTP answers when the run ends: a started run of the holding probe is let go once it runs.
    if (expected === 'started' && row.ask.probe === 'fake.hold') {
      await waitFor(() => hold.waiting === (row.running ? 2 : 1), 3000, 'the asked run');
      hold.open();
    }
    const res = await answer;
    const body = await res.json();
    if (expected === 'started') {
      expect(res.status).toBe(200);
      expect(body.success).toBe(true);
    } else {
      expect(res.status).toBe(429);
      expect(`${expected.split(':')[0]}:${body.reason}`).toBe(expected);
      if (expected.startsWith('busy')) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });

  it(`scheduler → ${row.expect.schedule}`, async () => {
    const { dispatcher, asked, metrics } = await setUp(row);
    const seen: Promise<Admission>[] = [];
    const real = dispatcher.dispatch.bind(dispatcher);
    vi.spyOn(dispatcher, 'dispatch').mockImplementation((req) => {
      const p = real(req);
      seen.push(p);
      return p;
    });
    const scheduler = new Scheduler(dispatcher, { jitterRatio: 0, maxStartOffsetMs: 0, random: () => 0 });
    cleanups.push(async () => scheduler.stop());
    scheduler.apply([asked], { jitterRatio: 0, maxStartOffsetMs: 0 });
    await waitFor(() => seen.length === 1, 3000, 'the scheduled run to be due');
    const got = await outcome(seen[0]);
    expect(got).toBe(row.expect.schedule);
    if (got === 'waits') await startsAfterRelease(seen[0]);
    if (got.startsWith('skipped')) {
      const labels = { target: asked.target.name, probe: asked.pc.probe.name, reason: got.split(':')[1] };
      expect(sampleValue((await metrics.render(false)).body, 'e2bbench_probe_skipped_total', labels)).toBe(1);
    }
  });
});

describe('one path for scheduled and on-demand runs', () => {
  it('POST /probe while the scheduler runs the same probe → 429 from the typed busy result', async () => {
    const row: Row = {
      state: 'scheduled run going',
      ask: { probe: 'fake.hold', target: 'a' },
      expect: { schedule: 'started', on_demand: 'busy:overlap', cli: 'busy:overlap' },
    };
    const env = await setUp(row);
    const scheduler = new Scheduler(env.dispatcher, { jitterRatio: 0, maxStartOffsetMs: 0, random: () => 0 });
    cleanups.push(async () => scheduler.stop());
    scheduler.apply([env.asked], { jitterRatio: 0, maxStartOffsetMs: 0 });
    await waitFor(() => hold.waiting === 1, 3000, 'the scheduled run');
    const answers: Admission[] = [];
    const real = env.dispatcher.dispatch.bind(env.dispatcher);
    vi.spyOn(env.dispatcher, 'dispatch').mockImplementation(async (req) => {
      const a = await real(req);
      answers.push(a);
      return a;
    });
    const server = await listen(
      createHttpApp({
        version: 'test',
        metrics: env.metrics,
        store: env.store,
        dispatcher: env.dispatcher,
        scheduler,
        config: () => env.cfg,
        reload: async () => ({ ok: true }),
        ready: () => true,
      }),
      '127.0.0.1:0',
    );
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const addr = server.address();
    const res = await fetch(
      `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/probe/fake.hold?target=a`,
      { method: 'POST' },
    );
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(await res.json()).toMatchObject({ reason: 'overlap' });
    expect(answers.map((a) => a.kind)).toEqual(['busy']);
    hold.open();
    await waitFor(() => env.store.list().length === 1, 3000, 'the scheduled run to end');
    expect(env.store.list()[0]).toMatchObject({ trigger: 'schedule', success: true });
  });
});
