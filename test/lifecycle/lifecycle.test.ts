import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { listOurSandboxes } from '../../src/targets/reaper.js';
import { startExporter } from '../helpers/exporter.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { SANDBOX_TEST_TIMEOUT_MS } from '../helpers/timeouts.js';

// Real sandboxes from the embedded local runtime, driven by the unmodified e2b SDK.
const canRun = process.getuid?.() === 0;
vi.setConfig({ testTimeout: SANDBOX_TEST_TIMEOUT_MS });

describe.runIf(canRun)('lifecycle probes against the local runtime', () => {
  const receiver = new OtlpReceiver();
  let h: Awaited<ReturnType<typeof startExporter>>;

  beforeAll(async () => {
    const otlp = await receiver.start();
    h = await startExporter(`
server: { listen: "127.0.0.1:0" }
tracing: { otlp_endpoint: "${otlp}" }
# Thin host-derived templates keep cold starts (evict + unpack) short on busy test machines;
# the runtime's own tests cover the built template's unpack path.
local_runtime: { pool_size: 1, max_sandboxes: 12, templates: host }
enable_all_probes: false
targets: [{ name: local, cloud_provider: local, cloud_region: here }]
probes:
  lifecycle.cold_start: { samples: 2, pause_between: 0 }
  lifecycle.warm_start: { samples: 2, pause_between: 0 }
  lifecycle.snapshot_restore: { samples: 1, pause_between: 0 }
  lifecycle.ops: { samples: 2 }
  lifecycle.burst: { count: 3, modes: [sequential, burst], stagger_ms: 50 }
  capacity.density: { batch_size: 2, max_sandboxes: 4 }
`);
  });

  // A run whose test timed out is aborted and its sandboxes killed before the next test starts.
  afterEach(() => h?.settle());

  afterAll(async () => {
    await h?.stop();
    await receiver.stop();
  });

  async function expectNoSandboxesLeft() {
    expect(await listOurSandboxes(h.exp.targets[0])).toEqual([]);
  }

  const names = (run: { metrics: { name: string; labels: Record<string, string> }[] }) =>
    new Set(
      run.metrics.map(
        (m) =>
          `${m.name}${m.labels.start_type ? `{${m.labels.start_type}}` : ''}${m.labels.phase ? `[${m.labels.phase}]` : ''}`,
      ),
    );

  it('cold start: evicts the cache, then create → first command; phases recorded', async () => {
    const run = await h.run('lifecycle.cold_start');
    expect(run.message).toBeUndefined();
    expect(run.success).toBe(true);
    expect(run.details.cold_start_strategy).toBe('local-evict');
    const n = names(run);
    expect(n).toContain('e2bbench_sandbox_start_seconds{cold}');
    expect(n).toContain('e2bbench_sandbox_phase_seconds{cold}[api_create]');
    expect(n).toContain('e2bbench_sandbox_phase_seconds{cold}[first_command]');
    expect(n).toContain('e2bbench_sandbox_phase_seconds{cold}[kill]');
    const starts = run.metrics.filter((m) => m.name === 'e2bbench_sandbox_start_seconds');
    expect(starts).toHaveLength(2);
    for (const s of starts)
      expect(s.labels).toMatchObject({
        target: 'local',
        cloud_provider: 'local',
        cloud_region: 'here',
        template: 'base',
      });
    expect((run.details.stats as { n: number }).n).toBe(2);
    const stat = (statistic: string) =>
      run.metrics.find((m) => m.name === 'e2bbench_sandbox_start_last_seconds' && m.labels.statistic === statistic)!
        .value;
    expect(stat('n')).toBe(2);
    expect(stat('p50_ci_low')).toBeLessThanOrEqual(stat('p50'));
    expect(stat('p50_ci_high')).toBeGreaterThanOrEqual(stat('p50'));
    expect(stat('p95_ci_high')).toBeGreaterThanOrEqual(stat('p95_ci_low'));
    await expectNoSandboxesLeft();
  });

  it('warm start: a trace joins client spans and the runtime server spans', async () => {
    const run = await h.run('lifecycle.warm_start');
    expect(run.success).toBe(true);
    expect(names(run)).toContain('e2bbench_sandbox_start_seconds{warm}');
    await h.exp.tracing.flush();
    const deadline = Date.now() + 10_000;
    let spans = receiver.spans.filter((s) => s.traceId === run.traceId);
    // Server spans: the runtime's request operations (they carry e2blocal.driver) and their phases.
    const isServer = (s: (typeof spans)[number]) => s.name.startsWith('e2blocal.') || 'e2blocal.driver' in s.attributes;
    while (!spans.some(isServer) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      await h.exp.tracing.flush();
      spans = receiver.spans.filter((s) => s.traceId === run.traceId);
    }
    const spanNames = new Set(spans.map((s) => s.name));
    expect(spanNames).toContain('probe lifecycle.warm_start');
    expect(spanNames).toContain('sandbox.create');
    expect(spanNames).toContain('sandbox.first_command');
    // HTTP client spans of the SDK calls (kind 3 = CLIENT) ...
    expect(spans.some((s) => s.kind === 3)).toBe(true);
    // ... and the local runtime's server-side phase spans, continued from our traceparent.
    const server = spans.filter(isServer);
    expect(server.length).toBeGreaterThan(0);
    // ... each a descendant of one of our client spans.
    const ids = new Set(spans.map((s) => s.spanId));
    for (const s of server) expect(ids.has(s.parentSpanId ?? '')).toBe(true);
    await expectNoSandboxesLeft();
  });

  it('snapshot restore: pause, resume, state verified, restore start recorded', async () => {
    const run = await h.run('lifecycle.snapshot_restore');
    expect(run.message).toBeUndefined();
    expect(run.success).toBe(true);
    const n = names(run);
    expect(n).toContain('e2bbench_sandbox_start_seconds{restore}');
    expect(n).toContain('e2bbench_sandbox_phase_seconds{restore}[pause]');
    expect(n).toContain('e2bbench_sandbox_phase_seconds{restore}[connect]');
    expect(run.phases.map((p) => p.name)).toContain('sandbox.verify_state');
    // The runtime's admin status says what its pause keeps; without it the kind would be E2B's snapshot.
    expect(['freeze', 'checkpoint']).toContain(run.details.pause_kind);
    expect(run.metrics.find((m) => m.name === 'e2bbench_sandbox_pause_seconds_per_gib')!.value).toBeGreaterThan(0);
    await expectNoSandboxesLeft();
  });

  it('ops: command round trip, 64 KiB stdout, file write/read and kill', async () => {
    const run = await h.run('lifecycle.ops');
    expect(run.success).toBe(true);
    const ops = new Set(
      run.metrics.filter((m) => m.name === 'e2bbench_sandbox_operation_seconds').map((m) => m.labels.operation),
    );
    expect([...ops].sort()).toEqual(['command_rtt', 'file_read_1k', 'file_write_1k', 'kill', 'stdout_64k']);
    await expectNoSandboxesLeft();
  });

  it('burst: first and last ready per mode, success ratio', async () => {
    const run = await h.run('lifecycle.burst');
    expect(run.success).toBe(true);
    for (const mode of ['sequential', 'burst']) {
      const ratio = run.metrics.find((m) => m.name === 'e2bbench_burst_success_ratio' && m.labels.mode === mode);
      expect(ratio?.value).toBe(1);
      const first = run.metrics.find(
        (m) => m.name === 'e2bbench_burst_seconds' && m.labels.mode === mode && m.labels.statistic === 'first_ready',
      )!;
      const last = run.metrics.find(
        (m) => m.name === 'e2bbench_burst_seconds' && m.labels.mode === mode && m.labels.statistic === 'last_ready',
      )!;
      expect(last.value).toBeGreaterThanOrEqual(first.value);
    }
    await expectNoSandboxesLeft();
  });

  it('capacity: batches up to the cap, per-node density from real placement, no balance on one node', async () => {
    const run = await h.run('capacity.density');
    expect(run.success).toBe(true);
    const peak = run.metrics.find((m) => m.name === 'e2bbench_capacity_max_sandboxes')!;
    expect(peak.value).toBe(4);
    const perNode = run.metrics.filter((m) => m.name === 'e2bbench_capacity_sandboxes_per_node');
    // The runtime's own node id, never an invented "all".
    expect(perNode.map((m) => [m.labels.node, m.value])).toEqual([['local', 4]]);
    expect(run.metrics.find((m) => m.name === 'e2bbench_capacity_balance_ratio')).toBeUndefined();
    expect(run.details.balance_unavailable).toMatch(/one node \(local\)/);
    expect(run.metrics.find((m) => m.name === 'e2bbench_capacity_limit_reached')!.labels.reason).toBe('cap');
    await expectNoSandboxesLeft();
  });

  it('exemplar trace ids on /metrics belong to stored runs', async () => {
    const res = await fetch(`${h.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    const text = await res.text();
    const ids = [
      ...text.matchAll(/^e2bbench_sandbox_start_seconds_bucket\{[^}]*\} \S+ # \{trace_id="([0-9a-f]{32})"\}/gm),
    ].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(0);
    const stored = new Set(h.exp.store.list({ limit: 1000 }).map((r) => r.traceId));
    for (const id of ids) expect(stored).toContain(id);
    expect(text).toMatch(/e2bbench_sandboxes_created_total\{[^}]*probe="lifecycle.warm_start"[^}]*\} [1-9]/);
    expect(text).toMatch(/e2bbench_sandboxes_in_flight\{[^}]*\} 0/);
  });
});
