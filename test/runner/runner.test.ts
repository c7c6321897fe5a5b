import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import type { Tracing } from '../../exporters/otel/tracing.js';
import { MetricsRegistry } from '../../exporters/prometheus/registry.js';
import { ProbeError, ProbeSkip } from '../../src/probe/reasons.js';
import type { SandboxBroker } from '../../src/probe/sandboxes.js';
import { RunStore } from '../../src/results/store.js';
import { classifyError, safeMessage } from '../../src/runner/classify.js';
import { Runner, type RunInfo } from '../../src/runner/runner.js';
import {
  failProbe,
  inlineProbe,
  makeRunner,
  okProbe,
  probeConfig,
  sampleValue,
  target,
} from '../helpers/fake-probes.js';

const T = target('t1', { template: 'bench' });
const TL = { target: 't1', cloud_provider: 'local', cloud_region: 'test-region' };

async function text(metrics: MetricsRegistry): Promise<string> {
  return (await metrics.render(false)).body;
}

describe('runner', () => {
  const made: { tracing: { shutdown(): Promise<void> } }[] = [];
  const setup = (...args: Parameters<typeof makeRunner>) => {
    const r = makeRunner(...args);
    made.push(r);
    return r;
  };
  afterAll(async () => {
    for (const r of made) await r.tracing.shutdown();
  });

  it('a successful run records gauges with target labels, observations and a run record', async () => {
    const { runner, metrics, store } = setup();
    const rec = await runner.run(probeConfig(okProbe, { options: { value: 5 } }), T, { trigger: 'schedule' });
    expect(rec).toMatchObject({ probe: 'fake.ok', target: 't1', trigger: 'schedule', success: true });
    expect(rec.reason).toBeUndefined();
    expect(rec.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(rec.traceId).not.toBe('0'.repeat(32));
    expect(rec.metrics).toEqual([
      { name: 'e2bbench_cpu_events_per_second', labels: { ...TL, scope: 'host', threads: '1' }, value: 5 },
      {
        name: 'e2bbench_sandbox_start_seconds',
        labels: { ...TL, template: 'bench', start_type: 'cold' },
        value: 0.3,
      },
    ]);
    expect(rec.logs.some((l) => l.endsWith('fake measurement done'))).toBe(true);
    expect(rec.details).toEqual({ fake: { ok: true } });
    expect(rec.settings).toMatchObject({ timeoutSeconds: 5, samples: 1, options: { value: 5 } });
    expect(store.get(rec.id)).toBe(rec);

    const body = await text(metrics);
    expect(sampleValue(body, 'e2bbench_cpu_events_per_second', { ...TL, scope: 'host', threads: '1' })).toBe(5);
    expect(sampleValue(body, 'e2bbench_probe_success', { ...TL, probe: 'fake.ok' })).toBe(1);
    expect(sampleValue(body, 'e2bbench_probe_runs_total', { ...TL, probe: 'fake.ok', trigger: 'schedule' })).toBe(1);
    expect(sampleValue(body, 'e2bbench_probe_duration_seconds', { ...TL, probe: 'fake.ok' })).toBeGreaterThanOrEqual(0);
    expect(sampleValue(body, 'e2bbench_sandbox_start_seconds_count', { ...TL, start_type: 'cold' })).toBe(1);
    expect(runner.isRunning('fake.ok', 't1')).toBe(false);
  });

  it('ProbeError(parse_error) → reason parse_error and a failure counter', async () => {
    const { runner, metrics } = setup();
    const rec = await runner.run(probeConfig(failProbe), T, { trigger: 'on_demand' });
    expect(rec.success).toBe(false);
    expect(rec.reason).toBe('parse_error');
    expect(rec.message).toBe('could not parse the fake tool output');
    const body = await text(metrics);
    expect(
      sampleValue(body, 'e2bbench_probe_failures_total', { ...TL, probe: 'fake.fail', reason: 'parse_error' }),
    ).toBe(1);
    expect(sampleValue(body, 'e2bbench_probe_success', { ...TL, probe: 'fake.fail' })).toBe(0);
  });

  it('an error named RateLimitError → rate_limited', async () => {
    const { runner, metrics } = setup();
    const probe = inlineProbe('fake.ratelimit', async () => {
      const e = new Error('slow down');
      e.name = 'RateLimitError';
      throw e;
    });
    const rec = await runner.run(probeConfig(probe), T, { trigger: 'schedule' });
    expect(rec.reason).toBe('rate_limited');
    expect(
      sampleValue(await text(metrics), 'e2bbench_probe_failures_total', {
        ...TL,
        probe: 'fake.ratelimit',
        reason: 'rate_limited',
      }),
    ).toBe(1);
  });

  it('timeout → reason timeout, the probe sees its signal aborted, deferred cleanups run', async () => {
    const { runner, metrics } = setup();
    let seen: AbortSignal | undefined;
    let abortedInProbe = false;
    const cleaned: string[] = [];
    const probe = inlineProbe('fake.slow', async (ctx) => {
      seen = ctx.signal;
      ctx.defer('first', () => void cleaned.push('first'));
      ctx.defer('second', async () => void cleaned.push('second'));
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener('abort', () => {
          abortedInProbe = true;
          resolve();
        }),
      );
    });
    const rec = await runner.run(probeConfig(probe, { timeoutMs: 150 }), T, { trigger: 'schedule' });
    expect(rec.success).toBe(false);
    expect(rec.reason).toBe('timeout');
    expect(rec.message).toMatch(/timeout/);
    expect(seen?.aborted).toBe(true);
    expect(abortedInProbe).toBe(true);
    expect(cleaned).toEqual(['second', 'first']);
    expect(
      sampleValue(await text(metrics), 'e2bbench_probe_failures_total', {
        ...TL,
        probe: 'fake.slow',
        reason: 'timeout',
      }),
    ).toBe(1);
  });

  it('a probe that ignores the abort still ends the run after the grace period', async () => {
    const { runner } = setup({ abortGraceMs: 50 });
    let release!: () => void;
    const cleaned: string[] = [];
    const probe = inlineProbe('fake.stubborn', async (ctx) => {
      ctx.defer('c', () => void cleaned.push('c'));
      await new Promise<void>((r) => (release = r));
    });
    const rec = await runner.run(probeConfig(probe, { timeoutMs: 100 }), T, { trigger: 'schedule' });
    expect(rec.reason).toBe('timeout');
    expect(cleaned).toEqual(['c']);
    release();
  });

  it('ProbeSkip → skipped counter, no failure, no success gauge', async () => {
    const { runner, metrics } = setup();
    const probe = inlineProbe('fake.skip', async () => {
      throw new ProbeSkip('not_configured', 'no iperf3 server configured');
    });
    const rec = await runner.run(probeConfig(probe), T, { trigger: 'schedule' });
    expect(rec).toMatchObject({ success: false, skipped: 'not_configured', message: 'no iperf3 server configured' });
    expect(rec.reason).toBeUndefined();
    const body = await text(metrics);
    expect(
      sampleValue(body, 'e2bbench_probe_skipped_total', { ...TL, probe: 'fake.skip', reason: 'not_configured' }),
    ).toBe(1);
    expect(body).not.toMatch(/e2bbench_probe_failures_total\{[^}]*probe="fake.skip"/);
    expect(sampleValue(body, 'e2bbench_probe_success', { ...TL, probe: 'fake.skip' })).toBeUndefined();
  });

  it('deferred cleanups run LIFO when the probe throws, and one failing cleanup does not stop the others', async () => {
    const { runner } = setup();
    const order: string[] = [];
    const probe = inlineProbe('fake.cleanup', async (ctx) => {
      ctx.defer('a', () => void order.push('a'));
      ctx.defer('b', () => {
        order.push('b');
        throw new Error('b broke');
      });
      ctx.defer('c', async () => void order.push('c'));
      throw new Error('measurement failed');
    });
    const rec = await runner.run(probeConfig(probe), T, { trigger: 'schedule' });
    expect(rec.reason).toBe('internal');
    expect(order).toEqual(['c', 'b', 'a']);
    expect(rec.logs.some((l) => /cleanup b failed: b broke/.test(l))).toBe(true);
  });

  it('a cleanup that hangs is bounded', async () => {
    const { runner } = setup({ cleanupTimeoutMs: 50 });
    const order: string[] = [];
    const probe = inlineProbe('fake.hang', async (ctx) => {
      ctx.defer('after', () => void order.push('after'));
      ctx.defer('hang', () => new Promise<void>(() => undefined));
    });
    const rec = await runner.run(probeConfig(probe), T, { trigger: 'schedule' });
    expect(rec.success).toBe(true);
    expect(order).toEqual(['after']);
    expect(rec.logs.some((l) => /cleanup hang failed: cleanup timed out/.test(l))).toBe(true);
  });

  it('histogram observations carry the run trace id as an OpenMetrics exemplar', async () => {
    const { runner, metrics } = setup();
    const rec = await runner.run(probeConfig(okProbe), T, { trigger: 'schedule' });
    expect(rec.success).toBe(true);
    const om = await metrics.render(true);
    expect(om.contentType).toMatch(/application\/openmetrics-text/);
    const lines = om.body.split('\n').filter((l) => l.startsWith('e2bbench_sandbox_start_seconds_bucket'));
    const withExemplar = lines.filter((l) => l.includes(`# {trace_id="${rec.traceId}"} 0.3`));
    expect(withExemplar.length).toBeGreaterThan(0);
    // The exemplar sits on the first bucket that holds the 0.3 s observation (buckets are <= 10% apart).
    const le = Number(/le="([^"]+)"/.exec(withExemplar[0])![1]);
    expect(le).toBeGreaterThanOrEqual(0.3);
    expect(le).toBeLessThan(0.3 * 1.11);
    // The runner's own run-time histogram carries it too.
    expect(om.body).toMatch(
      new RegExp(`e2bbench_probe_run_seconds_bucket\\{[^}]*\\} 1 # \\{trace_id="${rec.traceId}"\\}`),
    );
    // The plain text format has no exemplars.
    expect((await metrics.render(false)).body).not.toContain('trace_id');
  });

  it("a broker factory's close() is called on every path, after the probe's own cleanups", async () => {
    const events: string[] = [];
    const infos: RunInfo[] = [];
    const brokerFor = (info: RunInfo) => {
      infos.push(info);
      const broker: SandboxBroker & { close(): Promise<void> } = {
        connection: {},
        metadata: { run: info.runId },
        create: async () => {
          throw new Error('no sandboxes in this test');
        },
        track: () => undefined,
        kill: async () => undefined,
        live: () => [],
        close: async () => void events.push(`close ${info.probe}`),
      };
      return broker;
    };
    const { runner } = setup({ brokerFor, abortGraceMs: 50 });
    const withDefer = (name: string, body: () => Promise<void>) =>
      inlineProbe(name, async (ctx) => {
        expect(ctx.sandboxes.metadata).toEqual({ run: ctx.runId });
        ctx.defer('d', () => void events.push(`defer ${name}`));
        await body();
      });
    const probes = [
      withDefer('p.ok', async () => undefined),
      withDefer('p.fail', async () => {
        throw new ProbeError('sandbox_error', 'boom');
      }),
      withDefer('p.skip', async () => {
        throw new ProbeSkip('unsupported', 'nope');
      }),
      withDefer('p.timeout', () => new Promise<void>(() => undefined)),
    ];
    for (const p of probes) await runner.run(probeConfig(p, { timeoutMs: 100 }), T, { trigger: 'schedule' });
    expect(infos.map((i) => i.probe)).toEqual(['p.ok', 'p.fail', 'p.skip', 'p.timeout']);
    expect(infos[0]).toMatchObject({ target: T, timeoutMs: 100 });
    expect(events).toEqual(probes.flatMap((p) => [`defer ${p.name}`, `close ${p.name}`]));
  });

  it('phases are recorded in order; their spans are children of the root span in one trace', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracing = { tracer: provider.getTracer('test') } as unknown as Tracing;
    const runner = new Runner({ metrics: new MetricsRegistry(), tracing, store: new RunStore() });
    const probe = inlineProbe('fake.phases', async (ctx) => {
      await ctx.phase('sandbox.create', async () => 1);
      const { value, seconds } = await ctx.phase('bench.tool', async () => 'x', { threads: 2 });
      expect(value).toBe('x');
      expect(seconds).toBeGreaterThanOrEqual(0);
      await ctx
        .phase('sandbox.kill', async () => {
          throw new Error('kill failed');
        })
        .catch(() => undefined);
    });
    const rec = await runner.run(probeConfig(probe), T, { trigger: 'cli' });
    expect(rec.success).toBe(true);
    expect(rec.phases.map((p) => p.name)).toEqual(['sandbox.create', 'bench.tool', 'sandbox.kill']);
    expect(rec.phases[2].error).toBe('kill failed');
    for (let i = 1; i < rec.phases.length; i++)
      expect(rec.phases[i].startOffsetSeconds).toBeGreaterThanOrEqual(rec.phases[i - 1].startOffsetSeconds);

    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === 'probe fake.phases')!;
    expect(root).toBeDefined();
    expect(root.spanContext().traceId).toBe(rec.traceId);
    expect(root.attributes).toMatchObject({
      'e2bbench.probe': 'fake.phases',
      'e2bbench.run_id': rec.id,
      'e2bbench.trigger': 'cli',
      target: 't1',
      'cloud.provider': 'local',
      'cloud.region': 'test-region',
      'e2b.template': 'bench',
    });
    const children = spans.filter((s) => s !== root);
    expect(children.map((s) => s.name)).toEqual(['sandbox.create', 'bench.tool', 'sandbox.kill']);
    for (const s of children) {
      expect(s.spanContext().traceId).toBe(rec.traceId);
      expect(s.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    }
    expect(children[1].attributes).toMatchObject({ threads: 2 });
    expect(children[2].status.code).toBe(2); // ERROR
    await provider.shutdown();
  });

  it('a failing run marks its root span as an error with the reason', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracing = { tracer: provider.getTracer('test') } as unknown as Tracing;
    const runner = new Runner({ metrics: new MetricsRegistry(), tracing, store: new RunStore() });
    await runner.run(probeConfig(failProbe), T, { trigger: 'schedule' });
    const [root] = exporter.getFinishedSpans();
    expect(root.status.code).toBe(2);
    expect(root.attributes['e2bbench.failure_reason']).toBe('parse_error');
    await provider.shutdown();
  });

  it('refuses a second concurrent run of the same probe on the same target', async () => {
    const { runner } = setup();
    const releases: (() => void)[] = [];
    const probe = inlineProbe('fake.once', () => new Promise<void>((r) => releases.push(r)));
    const first = runner.run(probeConfig(probe), T, { trigger: 'schedule' });
    expect(runner.isRunning('fake.once', 't1')).toBe(true);
    expect(runner.runningCount()).toBe(1);
    expect(runner.runningCount('t1')).toBe(1);
    expect(runner.runningCount('t2')).toBe(0);
    await expect(runner.run(probeConfig(probe), T, { trigger: 'on_demand' })).rejects.toThrow(/already running/);
    // Another target is fine.
    const other = runner.run(probeConfig(probe), target('t2'), { trigger: 'on_demand' });
    expect(runner.runningCount()).toBe(2);
    expect(releases).toHaveLength(2);
    for (const r of releases) r();
    expect((await first).success).toBe(true);
    expect((await other).success).toBe(true);
    expect(runner.runningCount()).toBe(0);
  });

  it('a parent abort (shutdown) aborts the run and it is recorded as failed', async () => {
    const { runner } = setup({ abortGraceMs: 50 });
    const ac = new AbortController();
    const probe = inlineProbe(
      'fake.abortme',
      (ctx) => new Promise<void>((_r, rej) => ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason))),
    );
    const p = runner.run(probeConfig(probe), T, { trigger: 'schedule', signal: ac.signal });
    ac.abort(new ProbeError('internal', 'exporter shutting down'));
    const rec = await p;
    expect(rec.success).toBe(false);
    expect(rec.reason).toBe('internal');
    expect(rec.message).toBe('exporter shutting down');
  });

  it('masks secrets in stored messages', async () => {
    const { runner } = setup();
    const probe = inlineProbe('fake.leak', async () => {
      throw new Error('401 Unauthorized for key e2b_abcdef0123456789 and Bearer tok.abcdefgh');
    });
    const rec = await runner.run(probeConfig(probe), T, { trigger: 'schedule' });
    expect(rec.reason).toBe('auth');
    expect(rec.message).not.toContain('abcdef0123456789');
    expect(rec.message).not.toContain('tok.abcdefgh');
    expect(rec.message).toContain('e2b_***');
  });
});

describe('classifyError', () => {
  const named = (name: string, message = 'x') => Object.assign(new Error(message), { name });
  it.each([
    [new ProbeError('budget', 'x'), 'budget'],
    [named('AuthenticationError'), 'auth'],
    [named('TimeoutError'), 'timeout'],
    [named('CommandExitError'), 'command_failed'],
    [named('NotEnoughSpaceError'), 'capacity'],
    [named('SandboxNotFoundError'), 'sandbox_error'],
    [new Error('wrap', { cause: named('RateLimitError') }), 'rate_limited'],
    [Object.assign(new Error('spawn sysbench ENOENT'), { code: 'ENOENT' }), 'tool_missing'],
    [new Error('request failed with status 403'), 'auth'],
    [new Error('HTTP 429 Too Many Requests'), 'rate_limited'],
    [new Error('503 Service Unavailable'), 'capacity'],
    [new Error('502 Bad Gateway'), 'api_error'],
    [new Error('connect ECONNREFUSED 127.0.0.1:1'), 'api_error'],
    [new Error('operation timed out'), 'timeout'],
    [new Error('something odd'), 'internal'],
    ['a string', 'internal'],
  ])('%s → %s', (err, reason) => {
    expect(classifyError(err)).toBe(reason);
  });

  it('safeMessage is one bounded line', () => {
    const m = safeMessage(new Error(`line one\nline two ${'x'.repeat(1000)}`));
    expect(m).not.toContain('\n');
    expect(m.length).toBeLessThanOrEqual(500);
  });
});
