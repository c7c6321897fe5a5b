import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startExporter } from '../helpers/exporter.js';
import { SANDBOX_TEST_TIMEOUT_MS } from '../helpers/timeouts.js';
import { canRunSandboxes, startFixture, type RuntimeFixture } from '../local/helpers.js';

// The sandbox budget seen from outside: the exporter's HTTP surface and metrics, and the sandboxes
// the local runtime really holds (its admin status).
describe.runIf(canRunSandboxes)('the sandbox budget, end to end', () => {
  let fx: RuntimeFixture;
  let h: Awaited<ReturnType<typeof startExporter>>;

  beforeAll(async () => {
    fx = await startFixture({ poolSize: 0, network: 'none' });
    const e2b = `{ api_url: "${fx.conn.apiUrl}", sandbox_url: "${fx.conn.sandboxUrl}", api_key: "${fx.conn.apiKey}" }`;
    h = await startExporter(`
server: { listen: "127.0.0.1:0" }
enable_all_probes: false
targets:
  # 0.001 sandbox-minutes (60 ms) per hour: less than any one sandbox costs.
  - { name: tight, cloud_provider: local, template: base, e2b: ${e2b}, budget: { max_sandbox_minutes_per_hour: 0.001 } }
  - { name: single, cloud_provider: local, template: base, e2b: ${e2b}, budget: { max_concurrent_sandboxes: 1 } }
probes:
  lifecycle.warm_start: { targets: [tight], samples: 2, pause_between: 0 }
  lifecycle.burst: { targets: [single], modes: [burst], count: 3 }
`);
  });

  afterEach(async () => {
    await h.settle();
    // Whatever was refused, nothing is left running and nothing is counted in flight.
    expect(await sandboxes()).toEqual([]);
    for (const target of ['tight', 'single'])
      expect(sample(await metrics(), 'e2bbench_sandboxes_in_flight', { target }) ?? 0).toBe(0);
  });

  afterAll(async () => {
    await h?.stop();
    await fx?.stop();
  });

  const sandboxes = async () =>
    ((await (await fx.admin('GET', '/admin/status')).json()) as { sandboxes: { sandboxID: string }[] }).sandboxes.map(
      (s) => s.sandboxID,
    );
  const metrics = async () => (await fetch(`${h.url}/metrics`)).text();
  /** The value of the one series of `name` carrying `labels`, or undefined when there is none. */
  const sample = (text: string, name: string, labels: Record<string, string>) => {
    const rows = text.split('\n').filter((l) => l.startsWith(`${name}{`));
    const row = rows.find((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
    return row === undefined ? undefined : Number(row.split(' ').at(-1));
  };
  const post = (probe: string, target: string) =>
    fetch(`${h.url}/probe/${probe}?target=${target}`, { method: 'POST', signal: AbortSignal.timeout(120_000) });

  it(
    'a sandbox-minutes cap below one sandbox skips the run with reason budget, publishes no start figures and leaves nothing',
    async () => {
      const skipped = { probe: 'lifecycle.warm_start', target: 'tight', reason: 'budget' };
      // Nothing used yet: admitted; the warm-up sandbox spends more than the cap, so the first
      // sample's create is refused.
      const first = await post('lifecycle.warm_start', 'tight');
      expect(first.status).toBe(200);
      const run = (await first.json()) as { success: boolean; skipped?: string; message?: string };
      expect(run).toMatchObject({ success: false, skipped: 'budget' });
      expect(run.message).toMatch(/sandbox-minutes per hour used up/);
      let text = await metrics();
      expect(sample(text, 'e2bbench_probe_skipped_total', skipped)).toBe(1);
      expect(sample(text, 'e2bbench_sandboxes_created_total', { target: 'tight' })).toBe(1);
      // Refused samples are no failed starts of the target: no success ratio, no failure counted.
      expect(sample(text, 'e2bbench_sandbox_start_success_ratio', { target: 'tight' })).toBeUndefined();
      expect(sample(text, 'e2bbench_probe_failures_total', { target: 'tight' })).toBeUndefined();

      // Now the budget is used up before the run: refused at admission with 429, counted the same way.
      const second = await post('lifecycle.warm_start', 'tight');
      expect(second.status).toBe(429);
      expect(await second.json()).toMatchObject({ reason: 'budget' });
      text = await metrics();
      expect(sample(text, 'e2bbench_probe_skipped_total', skipped)).toBe(2);
      expect(sample(text, 'e2bbench_sandboxes_created_total', { target: 'tight' })).toBe(1);
    },
    SANDBOX_TEST_TIMEOUT_MS,
  );

  it(
    'max_concurrent_sandboxes: 1 holds during lifecycle.burst, which is skipped rather than reported as failed starts',
    async () => {
      let polling = true;
      let most = 0;
      const poll = (async () => {
        while (polling) {
          most = Math.max(most, (await sandboxes()).length);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      let res: Response;
      try {
        res = await post('lifecycle.burst', 'single');
      } finally {
        polling = false;
        await poll;
      }
      // Never two at once on the runtime, while 3 were asked for together.
      expect(most).toBeLessThanOrEqual(1);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ success: false, skipped: 'budget' });
      const text = await metrics();
      expect(sample(text, 'e2bbench_sandboxes_created_total', { target: 'single' })).toBe(1);
      expect(
        sample(text, 'e2bbench_probe_skipped_total', { probe: 'lifecycle.burst', target: 'single', reason: 'budget' }),
      ).toBe(1);
      // A 1-of-3 success ratio would be our cap's figure, not the target's.
      expect(sample(text, 'e2bbench_burst_success_ratio', { target: 'single' })).toBeUndefined();
    },
    SANDBOX_TEST_TIMEOUT_MS,
  );
});
