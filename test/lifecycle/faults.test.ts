import { execa, type ResultPromise } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLocalRuntime, type LocalRuntime } from '../../src/local/index.js';
import { listOurSandboxes } from '../../src/targets/reaper.js';
import { startExporter, tempConfig } from '../helpers/exporter.js';
import { SANDBOX_TEST_TIMEOUT_MS } from '../helpers/timeouts.js';

// Faults are injected through the local runtime's admin API; the exporter under test talks to it
// through the unmodified SDK exactly as to a remote E2B deployment.
const canRun = process.getuid?.() === 0;
vi.setConfig({ testTimeout: SANDBOX_TEST_TIMEOUT_MS });

describe.runIf(canRun)('probe failures are classified and leave no sandbox behind', () => {
  let rt: LocalRuntime;
  let h: Awaited<ReturnType<typeof startExporter>>;

  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${rt.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const targetYaml = () => `
  - name: faulty
    cloud_provider: local
    cloud_region: lab
    e2b: { api_url: "${rt.apiUrl}", sandbox_url: "${rt.sandboxUrl}", api_key: "${rt.apiKey}", admin_token: "${rt.adminToken}" }`;

  beforeAll(async () => {
    rt = await startLocalRuntime({ poolSize: 0, maxSandboxes: 20 });
    h = await startExporter(`
server: { listen: "127.0.0.1:0" }
enable_all_probes: false
targets:${targetYaml()}
probes:
  lifecycle.warm_start: { samples: 1, pause_between: 0 }
  lifecycle.ops: { samples: 300 }
`);
  });

  afterEach(async () => {
    await h.settle();
    await admin('DELETE', '/admin/faults');
    // Zero sandboxes of ours, through the list API, and none at all on the runtime.
    expect(await listOurSandboxes(h.exp.targets[0])).toEqual([]);
    const status = (await (await admin('GET', '/admin/status')).json()) as { sandboxes: unknown[] };
    expect(status.sandboxes).toEqual([]);
    // The exporter keeps serving.
    expect((await fetch(`${h.url}/-/healthy`)).status).toBe(200);
  });

  afterAll(async () => {
    await h?.stop();
    await rt?.stop();
  });

  it('5xx on create → api_error', async () => {
    await admin('PUT', '/admin/faults', { create_error_rate: 1 });
    const run = await h.run('lifecycle.warm_start');
    expect(run.success).toBe(false);
    expect(run.reason).toBe('api_error');
  });

  it('429 on create → rate_limited', async () => {
    await admin('PUT', '/admin/faults', { create_429_rate: 1 });
    const run = await h.run('lifecycle.warm_start');
    expect(run.success).toBe(false);
    expect(run.reason).toBe('rate_limited');
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(
      /e2bbench_probe_failures_total\{[^}]*probe="lifecycle.warm_start"[^}]*reason="rate_limited"[^}]*\} 1/,
    );
  });

  it('an envd stream dropped mid-command → sandbox_error', async () => {
    await admin('PUT', '/admin/faults', { drop_stream_rate: 1 });
    const run = await h.run('lifecycle.ops');
    expect(run.success).toBe(false);
    expect(run.reason).toBe('sandbox_error');
  });

  it('a sandbox crashing under the probe → sandbox_error', async () => {
    const running = h.run('lifecycle.ops');
    let crashed = false;
    for (let i = 0; i < 100 && !crashed; i++) {
      const s = (await (await admin('GET', '/admin/status')).json()) as {
        sandboxes: { sandboxID: string; state: string }[];
      };
      const victim = s.sandboxes.find((x) => x.state === 'running');
      if (victim) crashed = (await admin('POST', `/admin/sandboxes/${victim.sandboxID}/crash`)).ok;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(crashed).toBe(true);
    const run = await running;
    expect(run.success).toBe(false);
    expect(run.reason).toBe('sandbox_error');
  });

  it('a probe past its timeout → timeout, and the create still in flight is killed when it lands', async () => {
    await admin('PUT', '/admin/faults', { create_latency_ms: 2500 });
    const pc = h.exp.config.probes.get('lifecycle.warm_start')!;
    const run = await h.exp.runner.run({ ...pc, timeoutMs: 1000 }, h.exp.targets[0], { trigger: 'cli' });
    expect(run.success).toBe(false);
    expect(run.reason).toBe('timeout');
    expect(run.message).toMatch(/timeout of 1s/);
  });

  it('a test that ends mid-run: settle() aborts the run and returns once its sandboxes are gone', async () => {
    // What a timed-out test leaves behind: a long run (300 samples) holding a sandbox.
    const running = h.run('lifecycle.ops');
    let holding = false;
    for (let i = 0; i < 200 && !holding; i++) {
      holding = (await listOurSandboxes(h.exp.targets[0])).length > 0;
      if (!holding) await new Promise((r) => setTimeout(r, 100));
    }
    expect(holding).toBe(true);
    await h.settle();
    expect(await listOurSandboxes(h.exp.targets[0])).toEqual([]);
    const run = await running;
    expect(run.success).toBe(false);
    expect(run.message).toMatch(/the test ended before the run/);
  });

  it('SIGTERM to the exporter mid-probe → run aborted, its sandboxes killed before exit', async () => {
    const cfg = tempConfig(`
server: { listen: "127.0.0.1:0", instance: sigterm-test }
enable_all_probes: false
targets:${targetYaml()}
probes:
  lifecycle.ops: { samples: 1000, interval: 1h, timeout: 10m }
scheduler: { max_start_offset: 1s }
`);
    let child: ResultPromise | undefined;
    try {
      child = execa('node', ['bin/e2b-bench.js', 'serve', '--config', cfg.file], { reject: false, all: true });
      // Wait until the scheduled ops run holds a sandbox.
      let holding = false;
      for (let i = 0; i < 200 && !holding; i++) {
        holding = (await listOurSandboxes(h.exp.targets[0])).length > 0;
        if (!holding) await new Promise((r) => setTimeout(r, 100));
      }
      expect(holding).toBe(true);
      child.kill('SIGTERM');
      const result = await child;
      expect(result.exitCode).toBe(0);
      expect(result.all).toMatch(/lifecycle\.ops@faulty failed \(internal\): exporter shutting down/);
    } finally {
      // A no-op once the process has exited (execa's promise has no exitCode to check).
      child?.kill('SIGKILL');
      cfg.remove();
    }
  });
});
