import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { RateLimitError, Sandbox, SandboxError } from 'e2b';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRunSandboxes, startFixture, type RuntimeFixture } from './helpers.js';

interface Status {
  pool: Record<string, number>;
  sandboxes: { sandboxID: string; startType: string }[];
  templates: { name: string; cached: boolean }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function hasPromtool(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!canRunSandboxes)('local runtime: admin API, warm pool, faults, telemetry', () => {
  let fx: RuntimeFixture;
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

  const status = async () => (await (await fx.admin('GET', '/admin/status')).json()) as Status;
  const startTypeOf = async (sb: Sandbox) =>
    (await status()).sandboxes.find((s) => s.sandboxID === sb.sandboxId)?.startType;

  beforeAll(async () => {
    fx = await startFixture({ poolSize: 1, tracerProvider: provider });
  });
  afterAll(async () => {
    await fx?.stop();
    await provider.shutdown();
  });

  it('rejects admin calls without the token', async () => {
    const res = await fetch(`${fx.rt.apiUrl}/admin/status`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: number }).code).toBe(401);
    const wrong = await fetch(`${fx.rt.apiUrl}/admin/status`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it('starts warm from the pool, refills it, and starts cold after an eviction', async () => {
    for (let i = 0; i < 200 && (await status()).pool.base !== 1; i++) await sleep(50);
    expect((await status()).pool.base).toBe(1);
    const warm = await fx.create();
    expect(await startTypeOf(warm)).toBe('warm');
    expect((await warm.commands.run('echo warm')).stdout).toBe('warm\n');
    for (let i = 0; i < 200 && (await status()).pool.base !== 1; i++) await sleep(50);
    expect((await status()).pool.base).toBe(1);

    const evicted = await fx.admin('POST', '/admin/templates/base/evict');
    expect(evicted.status).toBe(200);
    const st = await status();
    expect(st.pool.base).toBe(0);
    expect(st.templates.find((t) => t.name === 'base')?.cached).toBe(false);
    await fx.admin('POST', '/admin/pool/drain', {});
    const cold = await fx.create();
    expect(await startTypeOf(cold)).toBe('cold');
    // The sandbox started before the eviction still works (its rootfs copy is kept until it goes).
    expect((await warm.commands.run('cat /etc/hostname')).stdout).toBe('e2b\n');
    const refill = await fx.admin('POST', '/admin/pool/refill', { template: 'base' });
    expect(((await refill.json()) as { pool: Record<string, number> }).pool.base).toBe(1);
    await Promise.all([warm.kill(), cold.kill()]);
  });

  it('injects create latency, 429s and 5xx, then stops when cleared', async () => {
    let res = await fx.admin('PUT', '/admin/faults', { create_429_rate: 1 });
    expect(res.status).toBe(200);
    await expect(fx.create()).rejects.toBeInstanceOf(RateLimitError);
    await fx.admin('PUT', '/admin/faults', { create_429_rate: 0, create_error_rate: 1 });
    const err = await fx.create().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxError);
    expect((err as SandboxError & { statusCode?: number }).statusCode).toBe(500);
    await fx.admin('PUT', '/admin/faults', { create_error_rate: 0, create_latency_ms: 400 });
    const t0 = Date.now();
    const slow = await fx.create();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    res = await fx.admin('PUT', '/admin/faults', { create_error_rate: 7 });
    expect(res.status).toBe(400);
    await fx.admin('DELETE', '/admin/faults');
    expect(
      ((await (await fx.admin('GET', '/admin/faults')).json()) as { createLatencyMs: number }).createLatencyMs,
    ).toBe(0);
    await slow.kill();
  });

  it('drops envd streams and crashes sandboxes on request', async () => {
    const sb = await fx.create();
    await fx.admin('PUT', '/admin/faults', { drop_stream_rate: 1 });
    await expect(sb.commands.run('echo never')).rejects.toThrow();
    await fx.admin('DELETE', '/admin/faults');
    expect((await sb.commands.run('echo back')).stdout).toBe('back\n');
    const crashed = await fx.admin('POST', `/admin/sandboxes/${sb.sandboxId}/crash`);
    expect(crashed.status).toBe(200);
    for (let i = 0; i < 100 && (await sb.isRunning()); i++) await sleep(20);
    expect(await sb.isRunning()).toBe(false);
    await expect(sb.getInfo()).rejects.toThrow(/not found/i);
  });

  it('continues the caller trace context with one span per phase', async () => {
    exporter.reset();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const sb = await fx.create({ template: 'small', headers: { traceparent: `00-${traceId}-${parentId}-01` } });
    await sb.pause();
    await Sandbox.connect(sb.sandboxId, { ...fx.conn, headers: { traceparent: `00-${traceId}-${parentId}-01` } });
    await sb.kill();
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const create = spans.find((s) => s.name === 'sandbox.create');
    expect(create).toBeDefined();
    expect(create!.parentSpanContext?.spanId).toBe(parentId);
    const children = spans
      .filter((s) => s.parentSpanContext?.spanId === create!.spanContext().spanId)
      .map((s) => s.name);
    expect(children).toEqual(expect.arrayContaining(['e2blocal.rootfs_mount', 'e2blocal.spawn', 'e2blocal.ready']));
    expect(spans.map((s) => s.name)).toEqual(
      expect.arrayContaining(['sandbox.pause', 'e2blocal.freeze', 'sandbox.resume', 'e2blocal.thaw']),
    );
  });

  it('exposes e2blocal_ metrics on its own /metrics, valid for promtool', async () => {
    const text = await (await fetch(fx.rt.metricsUrl)).text();
    expect(text).toMatch(/^e2blocal_sandbox_creates_total\{start_type="warm",result="ok"\} [1-9]/m);
    expect(text).toMatch(/^e2blocal_sandbox_creates_total\{start_type="unknown",result="rate_limited"\} 1/m);
    expect(text).toMatch(/^e2blocal_phase_seconds_count\{phase="spawn",result="ok"\} [1-9]/m);
    expect(text).toMatch(/^e2blocal_faults_injected_total\{fault="drop_stream"\} 1/m);
    expect(text).toMatch(/^e2blocal_sandbox_kills_total\{reason="crash"\} 1/m);
    expect(text).toMatch(
      /^e2blocal_info\{driver="namespace",pause_kind="freeze",.*limits="on",network="isolated"\} 1$/m,
    );
    expect(text).not.toMatch(/^e2bbench_|^process_cpu/m);
    if (hasPromtool()) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'e2blocal-metrics-'));
      try {
        writeFileSync(path.join(dir, 'm.txt'), text);
        execFileSync('sh', ['-c', `promtool check metrics < ${path.join(dir, 'm.txt')}`], { stdio: 'pipe' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
