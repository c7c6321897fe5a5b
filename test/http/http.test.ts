import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { NextFunction, Request, Response } from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Exporter } from '../../src/app/exporter.js';
import { requireToken } from '../../src/http/auth.js';
import { blockGate, sampleValue, waitFor } from '../helpers/fake-probes.js';

// Exporter.start loads the real probe list; the HTTP tests need probes whose behaviour they control.
vi.mock('../../probes/index.js', async () => {
  const fakes = await import('../helpers/fake-probes.js');
  return { ALL_PROBES: fakes.FAKE_PROBES, probeByName: (n: string) => fakes.FAKE_PROBES.find((p) => p.name === n) };
});

const TOKEN = 's3cret-token-0123456789';
const CONFIG = `
server: { auth_token: "\${TOKEN}" }
scheduler: { max_concurrent_runs: 2 }
targets:
  - { name: a, cloud_provider: local, cloud_region: r1 }
  - { name: b, cloud_provider: local, cloud_region: r2 }
probes:
  fake.ok: { value: 5 }
  fake.block: { timeout: 30s }
`;

let dir: string;
let file: string;
let exp: Exporter;
let base: string;
const auth = { authorization: `Bearer ${TOKEN}` };

const post = (path: string, headers: Record<string, string> = auth) =>
  fetch(`${base}${path}`, { method: 'POST', headers });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2bbench-http-'));
  file = join(dir, 'config.yaml');
  await writeFile(file, CONFIG);
  exp = await Exporter.start({ configFile: file, listen: '127.0.0.1:0', schedule: false, env: { TOKEN } });
  base = `http://${exp.address}`;
});

afterAll(async () => {
  blockGate.open();
  await exp?.stop();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => blockGate.reset());

describe('HTTP: read-only endpoints', () => {
  it('/metrics in the Prometheus text format by default', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
    const body = await res.text();
    expect(sampleValue(body, 'e2bbench_build_info')).toBe(1);
    expect(sampleValue(body, 'e2bbench_config_last_reload_successful')).toBe(1);
    expect(sampleValue(body, 'e2bbench_target_info', { target: 'a', cloud_region: 'r1' })).toBe(1);
    expect(body).not.toContain('# EOF');
  });

  it('/metrics in OpenMetrics when asked', async () => {
    const res = await fetch(`${base}/metrics`, {
      headers: { accept: 'application/openmetrics-text; version=1.0.0; charset=utf-8' },
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/openmetrics-text;.*version=1\.0\.0/);
    const body = await res.text();
    expect(body.trimEnd().endsWith('# EOF')).toBe(true);
    expect(body).toContain('e2bbench_build_info');
  });

  it('/-/healthy and /-/ready', async () => {
    const h = await fetch(`${base}/-/healthy`);
    expect(h.status).toBe(200);
    expect(await h.text()).toBe('OK\n');
    const r = await fetch(`${base}/-/ready`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('Ready\n');
  });

  it('unknown paths are a JSON 404', async () => {
    const res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not found' });
  });
});

describe('HTTP: POST /probe/:probe', () => {
  it('needs the bearer token: none → 401, wrong → 401, right → 200', async () => {
    const none = await post('/probe/fake.ok?target=a', {});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await post('/probe/fake.ok?target=a', { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    const almost = await post('/probe/fake.ok?target=a', { authorization: `Bearer ${TOKEN}x` });
    expect(almost.status).toBe(401);
    const ok = await post('/probe/fake.ok?target=a');
    expect(ok.status).toBe(200);
    const body = await ok.json();
    expect(body).toMatchObject({ probe: 'fake.ok', target: 'a', success: true });
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(body.metrics).toContainEqual({
      name: 'e2bbench_cpu_events_per_second',
      labels: { target: 'a', cloud_provider: 'local', cloud_region: 'r1', scope: 'host', threads: '1' },
      value: 5,
    });
    // Not in debug mode: no phases, logs or config.
    expect(body.phases).toBeUndefined();
    expect(body.config).toBeUndefined();
    // Recorded with trigger="on_demand".
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(
      sampleValue(metrics, 'e2bbench_probe_runs_total', { target: 'a', probe: 'fake.ok', trigger: 'on_demand' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('unknown probe → 404 listing the valid ones', async () => {
    const res = await post('/probe/host.gpu?target=a');
    expect(res.status).toBe(404);
    const body = await res.json();
    expect(body.error).toContain('"host.gpu"');
    expect(body.probes.sort()).toEqual(['fake.block', 'fake.fail', 'fake.ok']);
  });

  it('unknown target → 404 listing the valid ones; no target with two configured → 400', async () => {
    const res = await post('/probe/fake.ok?target=zz');
    expect(res.status).toBe(404);
    const body = await res.json();
    expect(body.error).toContain('"zz"');
    expect(body.targets).toEqual(['a', 'b']);
    const none = await post('/probe/fake.ok');
    expect(none.status).toBe(400);
    expect((await none.json()).targets).toEqual(['a', 'b']);
  });

  it('unsupported query parameters → 400; so is a bad debug value', async () => {
    const res = await post('/probe/fake.ok?target=a&samples=1000');
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/unsupported query parameter\(s\): samples/);
    const dbg = await post('/probe/fake.ok?target=a&debug=yes');
    expect(dbg.status).toBe(400);
  });

  it('a second run of a running probe → 429 with Retry-After', async () => {
    const first = post('/probe/fake.block?target=a');
    await waitFor(() => exp.runner.isRunning('fake.block', 'a'), 5000, 'the first run');
    const second = await post('/probe/fake.block?target=a');
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('30');
    expect((await second.json()).error).toMatch(/already running/);
    blockGate.open();
    const res = await first;
    expect(res.status).toBe(200);
    expect((await res.json()).success).toBe(true);
  });

  it('the global concurrency cap → 429 with Retry-After', async () => {
    const runs = [post('/probe/fake.block?target=a'), post('/probe/fake.block?target=b')];
    await waitFor(() => exp.runner.runningCount() === 2, 5000, 'two runs');
    const third = await post('/probe/fake.ok?target=a');
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('30');
    expect((await third.json()).error).toMatch(/concurrency cap/);
    blockGate.open();
    for (const r of await Promise.all(runs)) expect(r.status).toBe(200);
    // Slots are given back: the next run is accepted.
    expect((await post('/probe/fake.ok?target=a')).status).toBe(200);
  });

  it('?debug=true adds phases, logs, details, the trace id and the effective config', async () => {
    const res = await post('/probe/fake.ok?target=b&debug=true');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(body.phases.map((p: { name: string }) => p.name)).toEqual(['bench.fake']);
    expect(body.logs.some((l: string) => l.endsWith('fake measurement done'))).toBe(true);
    expect(body.details).toEqual({ fake: { ok: true } });
    expect(body.config).toEqual({ intervalSeconds: 3600, timeoutSeconds: 30, samples: 1, options: { value: 5 } });
  });

  it('a failing probe is HTTP 200 with success:false and the reason', async () => {
    const res = await post('/probe/fake.fail?target=a');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      success: false,
      reason: 'parse_error',
      message: 'could not parse the fake tool output',
    });
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('HTTP: run history', () => {
  it('/api/runs lists summaries; /api/runs/:id has the full record; unknown id → 404', async () => {
    const made = await (await post('/probe/fake.ok?target=a')).json();
    const list = await (await fetch(`${base}/api/runs?probe=fake.ok&limit=5`)).json();
    expect(list.runs.length).toBeGreaterThan(0);
    expect(list.runs.length).toBeLessThanOrEqual(5);
    expect(list.runs.every((r: { probe: string }) => r.probe === 'fake.ok')).toBe(true);
    expect(list.runs[0]).toMatchObject({ id: made.id, traceId: made.traceId, success: true, trigger: 'on_demand' });
    expect(list.runs[0].logs).toBeUndefined();

    const failed = await (await fetch(`${base}/api/runs?success=false`)).json();
    expect(failed.runs.every((r: { success: boolean }) => !r.success)).toBe(true);

    // A skip is not a success either: ?skipped=false keeps the runs that ran and failed.
    const failedRun = await (await post('/probe/fake.fail?target=a')).json();
    exp.store.add({
      ...(await (await fetch(`${base}/api/runs/${made.id}`)).json()),
      id: 'skipped-1',
      success: false,
      skipped: 'not_configured',
    });
    const ids = async (q: string) =>
      ((await (await fetch(`${base}/api/runs?${q}`)).json()).runs as { id: string }[]).map((r) => r.id);
    expect(await ids('success=false')).toEqual(expect.arrayContaining(['skipped-1', failedRun.id]));
    expect(await ids('success=false&skipped=false')).toContain(failedRun.id);
    expect(await ids('success=false&skipped=false')).not.toContain('skipped-1');
    expect(await ids('skipped=true')).toEqual(['skipped-1']);
    expect((await fetch(`${base}/api/runs?skipped=maybe`)).status).toBe(400);

    const one = await fetch(`${base}/api/runs/${made.id}`);
    expect(one.status).toBe(200);
    const rec = await one.json();
    expect(rec).toMatchObject({ id: made.id, probe: 'fake.ok', target: 'a' });
    expect(rec.metrics.length).toBe(2);
    expect(rec.logs.length).toBeGreaterThan(0);

    const missing = await fetch(`${base}/api/runs/does-not-exist`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toContain('does-not-exist');

    expect((await fetch(`${base}/api/runs?limit=0`)).status).toBe(400);
  });
});

describe('HTTP: reload', () => {
  it('POST /-/reload needs the token, applies a good file, and answers 400 with the errors for a bad one', async () => {
    expect((await post('/-/reload', {})).status).toBe(401);
    const ok = await post('/-/reload');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true });

    await writeFile(
      file,
      CONFIG.replace('cloud_region: r2', 'cloud_region: r2, pricing: { hourly_usd: abc }') + 'oops: 1\n',
    );
    try {
      const bad = await post('/-/reload');
      expect(bad.status).toBe(400);
      const body = await bad.json();
      expect(body.ok).toBe(false);
      expect(body.errors).toEqual(['targets[1].pricing.hourly_usd: expected number, got "abc"', 'oops: unknown key']);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(sampleValue(metrics, 'e2bbench_config_last_reload_successful')).toBe(0);
      // Still serving the old config.
      expect((await post('/probe/fake.ok?target=b')).status).toBe(200);
    } finally {
      await writeFile(file, CONFIG);
    }
    expect((await post('/-/reload')).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(sampleValue(metrics, 'e2bbench_config_last_reload_successful')).toBe(1);
  });

  it('an on-demand run on a target removed while it runs leaves no series of that target behind', async () => {
    const running = post('/probe/fake.block?target=b');
    await waitFor(() => exp.runner.isRunning('fake.block', 'b'), 5000, 'the run');
    await writeFile(file, CONFIG.replace('  - { name: b, cloud_provider: local, cloud_region: r2 }\n', ''));
    try {
      expect((await post('/-/reload')).status).toBe(200);
      blockGate.open();
      const res = await running;
      expect(res.status).toBe(200);
      expect((await res.json()).success).toBe(true);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics.split('\n').filter((l) => l.includes('target="b"'))).toEqual([]);
    } finally {
      await writeFile(file, CONFIG);
      await post('/-/reload');
    }
  });

  it('an on-demand run of a probe disabled while it runs leaves no series of that probe behind', async () => {
    const running = post('/probe/fake.block?target=a');
    await waitFor(() => exp.runner.isRunning('fake.block', 'a'), 5000, 'the run');
    await writeFile(file, CONFIG.replace('fake.block: { timeout: 30s }', 'fake.block: { enabled: false }'));
    try {
      expect((await post('/-/reload')).status).toBe(200);
      blockGate.open();
      expect((await running).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics.split('\n').filter((l) => l.includes('probe="fake.block"'))).toEqual([]);
      expect(metrics).toMatch(/probe="fake.ok"/);
    } finally {
      await writeFile(file, CONFIG);
      await post('/-/reload');
    }
  });
});

describe('HTTP: secrets and exposition', () => {
  it('the token never appears in any response', async () => {
    const debug = await (await post('/probe/fake.ok?target=a&debug=true')).text();
    const pages = await Promise.all(
      ['/metrics', '/', '/api/runs', '/-/ready'].map(async (p) => (await fetch(`${base}${p}`)).text()),
    );
    for (const body of [debug, ...pages]) expect(body).not.toContain(TOKEN);
  });

  it('promtool check metrics passes on the text exposition after runs with data', async () => {
    await post('/probe/fake.ok?target=a');
    await post('/probe/fake.fail?target=b');
    const body = await (await fetch(`${base}/metrics`)).text();
    expect(sampleValue(body, 'e2bbench_cpu_events_per_second', { target: 'a', threads: '1' })).toBe(5);
    expect(body).toMatch(/e2bbench_sandbox_start_seconds_bucket\{/);
    const r = await execa('promtool', ['check', 'metrics'], { input: body, reject: false });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.exitCode).toBe(0);
  });
});

describe('HTTP: no token configured', () => {
  let open: Exporter;
  let openDir: string;
  beforeAll(async () => {
    openDir = await mkdtemp(join(tmpdir(), 'e2bbench-http-open-'));
    const f = join(openDir, 'config.yaml');
    await writeFile(f, 'targets:\n  - { name: only, cloud_provider: local }\n');
    open = await Exporter.start({ configFile: f, listen: '127.0.0.1:0', schedule: false, env: {} });
  });
  afterAll(async () => {
    await open?.stop();
    await rm(openDir, { recursive: true, force: true });
  });

  it('loopback clients may act without a token; a single target needs no ?target', async () => {
    const res = await fetch(`http://${open.address}/probe/fake.ok`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ target: 'only', success: true });
    expect((await fetch(`http://${open.address}/-/reload`, { method: 'POST' })).status).toBe(200);
  });

  it('other clients are refused (403) when no token is configured', () => {
    const guard = requireToken(() => undefined);
    const call = (remoteAddress: string) => {
      let status = 0;
      let nextCalled = false;
      const res = {
        status(s: number) {
          status = s;
          return this;
        },
        json() {
          return this;
        },
        setHeader() {},
      } as unknown as Response;
      const req = { socket: { remoteAddress }, get: () => undefined } as unknown as Request;
      guard(req, res, (() => (nextCalled = true)) as NextFunction);
      return { status, nextCalled };
    };
    expect(call('127.0.0.1')).toEqual({ status: 0, nextCalled: true });
    expect(call('::ffff:127.0.0.1')).toEqual({ status: 0, nextCalled: true });
    expect(call('::1')).toEqual({ status: 0, nextCalled: true });
    expect(call('10.1.2.3')).toEqual({ status: 403, nextCalled: false });
    expect(call('::ffff:192.168.1.1')).toEqual({ status: 403, nextCalled: false });
  });
});
