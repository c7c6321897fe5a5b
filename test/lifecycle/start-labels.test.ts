import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coldStart } from '../../probes/lifecycle/cold-start.js';
import { ProbeSkip } from '../../src/probe/reasons.js';
import { GvisorDriver } from '../../src/local/driver/gvisor.js';
import type { RunRecord } from '../../src/results/run-record.js';
import { startExporter } from '../helpers/exporter.js';
import { makeTestContext } from '../helpers/context.js';

describe('lifecycle.cold_start without a way to make the cache cold', () => {
  it('publishes no cold sample on a target configured like E2B cloud and says why', async () => {
    // No Nomad, no strategy: the probe must stop before creating anything (no sandbox is reachable here).
    const ctx = makeTestContext(coldStart, {
      samples: 2,
      target: { name: 'cloud', cloud_provider: 'e2b', e2b: { api_url: 'http://127.0.0.1:9', api_key: 'k' } },
    });
    const err = await coldStart.run(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProbeSkip);
    expect((err as ProbeSkip).reason).toBe('unsupported');
    expect((err as ProbeSkip).message).toMatch(/cold_start_strategy.*nomad-restart.*fresh-template/);
    expect([...ctx.samples, ...ctx.observations].filter((s) => s.labels.start_type === 'cold')).toEqual([]);
  });

  it('fresh-template without templates is not configured, not a plain create', async () => {
    const ctx = makeTestContext(coldStart, {
      target: { cloud_provider: 'e2b', cold_start_strategy: 'fresh-template', e2b: { api_url: 'http://127.0.0.1:9' } },
    });
    const err = await coldStart.run(ctx).catch((e: unknown) => e);
    expect((err as ProbeSkip).reason).toBe('not_configured');
    expect(ctx.observations).toEqual([]);
  });
});

// Real sandboxes from the embedded local runtime, driven by the unmodified e2b SDK.
const canRun = process.getuid?.() === 0;
const drivers = [
  { driver: 'namespace', kind: 'freeze' },
  ...(GvisorDriver.available() ? [{ driver: 'gvisor', kind: 'checkpoint' }] : []),
];

describe.runIf(canRun).each(drivers)('lifecycle.snapshot_restore on the $driver driver', ({ driver, kind }) => {
  let h: Awaited<ReturnType<typeof startExporter>>;
  beforeAll(async () => {
    h = await startExporter(`
server: { listen: "127.0.0.1:0" }
local_runtime: { driver: ${driver}, pool_size: 0, max_sandboxes: 4, templates: host }
enable_all_probes: false
targets: [{ name: local, cloud_provider: local }]
probes:
  lifecycle.snapshot_restore: { samples: 1, pause_between: 0 }
`);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it(`labels every restore series pause_kind="${kind}"`, async () => {
    const run: RunRecord = await h.run('lifecycle.snapshot_restore');
    expect(run.message).toBeUndefined();
    const restore = run.metrics.filter((m) => m.labels.start_type === 'restore');
    const names = new Set(restore.map((m) => m.name));
    for (const name of [
      'e2bbench_sandbox_start_seconds',
      'e2bbench_sandbox_phase_seconds',
      'e2bbench_sandbox_start_success_ratio',
      'e2bbench_sandbox_start_last_seconds',
    ])
      expect(names).toContain(name);
    for (const m of restore) expect(m.labels.pause_kind, m.name).toBe(kind);
    const perGib = run.metrics.find((m) => m.name === 'e2bbench_sandbox_pause_seconds_per_gib');
    expect(perGib?.labels.pause_kind).toBe(kind);
    // The exposition carries it too (the label is optional in the family, present on these series).
    const text = await (await fetch(`${h.url}/metrics`)).text();
    expect(text).toMatch(
      new RegExp(`e2bbench_sandbox_start_seconds_count\\{[^}]*start_type="restore",pause_kind="${kind}"`),
    );
  });
});
