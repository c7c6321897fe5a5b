import { Sandbox } from 'e2b';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetSchema } from '../../src/config/schema.js';
import { INSTANCE_KEY, ownershipMetadata } from '../../src/targets/ownership.js';
import { listOurSandboxes } from '../../src/targets/reaper.js';
import { tempConfig } from '../helpers/exporter.js';
import { freePort, httpOk, startProcess, waitFor, type Proc } from '../helpers/processes.js';
import { SANDBOX_TEST_TIMEOUT_MS } from '../helpers/timeouts.js';
import { canRunSandboxes, startFixture, type RuntimeFixture } from '../local/helpers.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'e2b-bench.js');
const INSTANCE = 'reaper-e2e';
const REAPER_INTERVAL_MS = 3000;
/** Sandboxes of another exporter on the same deployment and target. */
const ELSEWHERE = { instance: 'elsewhere', target: 'a', probe: 'lifecycle.ops' };

// Real exporter processes (the CLI's `serve`) against a local runtime on loopback that outlives
// them, as a self-hosted E2B outlives a crashed exporter.
describe.runIf(canRunSandboxes)('the reaper, end to end', () => {
  let fx: RuntimeFixture;
  const procs: Proc[] = [];
  const configs: { remove(): void }[] = [];

  beforeAll(async () => {
    fx = await startFixture({ poolSize: 0, network: 'none' });
  });

  afterAll(async () => {
    // By pid; the runtime then kills whatever sandbox is left.
    await Promise.all(procs.map((p) => p.stop(5000)));
    await fx?.stop();
    for (const c of configs) c.remove();
  });

  /** Two targets on the one runtime, so two runs hold a sandbox each at once. */
  const config = (port: number) => {
    const e2b = `{ api_url: "${fx.conn.apiUrl}", sandbox_url: "${fx.conn.sandboxUrl}", api_key: "${fx.conn.apiKey}" }`;
    const c = tempConfig(`
server: { listen: "127.0.0.1:${port}", instance: ${INSTANCE}, reaper_interval: ${REAPER_INTERVAL_MS}ms }
enable_all_probes: false
scheduler: { exclusive_load: false }
targets:
  - { name: a, cloud_provider: local, template: base, e2b: ${e2b} }
  - { name: b, cloud_provider: local, template: base, e2b: ${e2b} }
probes:
  # On demand only (the cron never comes during a test); the second start is due long after the
  # exporter is killed, so each run holds its first sandbox, idle, until then.
  lifecycle.burst: { schedule: "0 0 1 1 *", timeout: 5m, modes: [staggered], count: 2, stagger_ms: 600000 }
`);
    configs.push(c);
    return c.file;
  };

  const serve = async (name: string) => {
    const port = await freePort();
    const p = startProcess(name, process.execPath, [BIN, 'serve', '--config', config(port)]);
    procs.push(p);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(`${name} ready`, () => httpOk(`${url}/-/ready`), p, 60_000);
    return { p, url };
  };

  const status = async () =>
    ((await (await fx.admin('GET', '/admin/status')).json()) as { sandboxes: { sandboxID: string }[] }).sandboxes.map(
      (s) => s.sandboxID,
    );
  /** Sandbox ids of one instance, as the reaper lists them (ownership metadata). */
  const ofInstance = async (instance: string) => {
    const e2b = { api_url: fx.conn.apiUrl, sandbox_url: fx.conn.sandboxUrl, api_key: fx.conn.apiKey };
    const ours = await listOurSandboxes(TargetSchema.parse({ name: 'a', cloud_provider: 'local', e2b }));
    return ours.filter((s) => s.metadata[INSTANCE_KEY] === instance).map((s) => s.sandboxId);
  };
  const leaked = async (url: string) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const rows = [...text.matchAll(/^e2bbench_sandboxes_leaked_total\{[^}]*target="(\w+)"[^}]*\} (\S+)$/gm)];
    return Object.fromEntries(rows.map((m) => [m[1], Number(m[2])]));
  };

  it(
    "a restarted instance kills what its SIGKILLed predecessor held and counts it; another instance's live sandbox survives",
    async () => {
      // Another exporter's sandbox, its run still going (deadline 10 minutes ahead).
      const foreign = await fx.create({
        metadata: ownershipMetadata({ ...ELSEWHERE, runId: 'run-elsewhere', deadlineMs: Date.now() + 600_000 }),
        timeoutMs: 600_000,
      });

      const first = await serve('exporter-1');
      // Answered only when the run ends, which the SIGKILL forestalls.
      for (const t of ['a', 'b'])
        void fetch(`${first.url}/probe/lifecycle.burst?target=${t}`, { method: 'POST' }).catch(() => undefined);
      await waitFor(
        'both runs to hold a sandbox',
        async () => (await ofInstance(INSTANCE)).length === 2,
        first.p,
        60_000,
      );
      const held = (await ofInstance(INSTANCE)).sort();
      process.kill(first.p.pid, 'SIGKILL');
      await first.p.stop();
      // Nothing of the dead exporter cleaned up: the runtime still has its sandboxes.
      expect((await status()).sort()).toEqual([...held, foreign.sandboxId].sort());

      const second = await serve('exporter-2');
      const total = async () => Object.values(await leaked(second.url)).reduce((a, b) => a + b, 0);
      // Killed and counted within one reaper interval of the new exporter being ready.
      await waitFor(
        "the predecessor's sandboxes to be killed and counted",
        async () => (await ofInstance(INSTANCE)).length === 0 && (await total()) === 2,
        second.p,
        REAPER_INTERVAL_MS,
      );
      expect(await leaked(second.url)).toEqual({ a: 1, b: 1 });

      // Periodic sweeps after the first leave the foreign sandbox alone and count nothing more.
      await sleep(REAPER_INTERVAL_MS * 2);
      expect(await status()).toEqual([foreign.sandboxId]);
      expect(await leaked(second.url)).toEqual({ a: 1, b: 1 });

      // Once its deadline passes, a sweep kills another instance's sandbox too, within one interval.
      const expiring = await fx.create({
        metadata: ownershipMetadata({ ...ELSEWHERE, runId: 'run-over', deadlineMs: Date.now() + 500 }),
        timeoutMs: 600_000,
      });
      await sleep(500);
      // Counted once its kill has returned, a moment after the runtime stops listing it.
      await waitFor(
        'the expired sandbox to be reaped and counted',
        async () => !(await status()).includes(expiring.sandboxId) && (await total()) === 3,
        second.p,
        REAPER_INTERVAL_MS + 2000,
      );
      expect(await status()).toEqual([foreign.sandboxId]);
      expect(await leaked(second.url)).toEqual({ a: 2, b: 1 });
      await Sandbox.kill(foreign.sandboxId, fx.conn);
    },
    SANDBOX_TEST_TIMEOUT_MS,
  );
});
