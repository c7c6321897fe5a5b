import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templateBuild } from '../../probes/lifecycle/template-build.js';
import { GvisorDriver } from '../../src/local/driver/gvisor.js';
import { startLocalRuntime, StoreTemplateProvider, type LocalRuntime } from '../../src/local/index.js';
import { ProbeSkip } from '../../src/probe/reasons.js';
import { NO_SANDBOXES } from '../../src/probe/sandboxes.js';
import type { RunRecord } from '../../src/results/run-record.js';
import { makeTestContext } from '../helpers/context.js';
import { startExporter } from '../helpers/exporter.js';

// Real builds: the embedded local runtime, driven by the unmodified e2b SDK's Template.build. The
// built base template when the shared store has it (the build reuses its cached image).
const canRun = process.getuid?.() === 0;
const built = canRun && (await new StoreTemplateProvider().available());
const templates = built ? 'store' : 'host';

interface BuildStatus {
  templateBuilds: { supported: boolean; reason?: string; templates: { templateID: string; names: string[] }[] };
}

async function adminStatus(apiUrl: string, adminToken: string): Promise<BuildStatus> {
  const res = await fetch(`${apiUrl}/admin/status`, { headers: { authorization: `Bearer ${adminToken}` } });
  return (await res.json()) as BuildStatus;
}

function files(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [];
}

describe.runIf(canRun)('lifecycle.template_build through the exporter', () => {
  let h: Awaited<ReturnType<typeof startExporter>>;
  beforeAll(async () => {
    h = await startExporter(`
server: { listen: "127.0.0.1:0" }
local_runtime: { pool_size: 0, max_sandboxes: 4, templates: ${templates} }
enable_all_probes: false
targets: [{ name: local, cloud_provider: local }]
probes:
  lifecycle.template_build: { samples: 1 }
`);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('publishes e2bbench_template_build_seconds, checks the build in a sandbox and deletes the template', async () => {
    const run: RunRecord = await h.run('lifecycle.template_build');
    expect(run.message).toBeUndefined();
    expect(run.success).toBe(true);
    const m = run.metrics.filter((x) => x.name === 'e2bbench_template_build_seconds');
    expect(m).toHaveLength(1);
    expect(m[0]!.labels.template).toBe('base');
    expect(m[0]!.value).toBeGreaterThan(0);
    const text = await (await fetch(`${h.url}/metrics`)).text();
    expect(text).toMatch(/e2bbench_template_build_seconds_count\{[^}]*template="base"[^}]*\} 1/);
    // The check ran in a sandbox of the built template (created and killed by the run).
    expect(run.phases?.map((p) => p.name)).toEqual(['template.build', 'template.verify', 'template.delete']);
    expect(text).toMatch(/e2bbench_sandboxes_created_total\{[^}]*probe="lifecycle.template_build"[^}]*\} 1/);
    // Deleted: the runtime knows no built template any more, and sandboxes cannot start from it.
    const e2b = h.exp.targets[0]!.e2b!;
    expect((await adminStatus(e2b.api_url!, e2b.admin_token!)).templateBuilds.templates).toEqual([]);
    const list = (await (
      await fetch(`${e2b.api_url}/templates`, { headers: { 'x-api-key': e2b.api_key! } })
    ).json()) as {
      templateID: string;
    }[];
    expect(list.map((t) => t.templateID).filter((n) => n.startsWith('e2bbench-build-'))).toEqual([]);
  });
});

describe.runIf(canRun)('lifecycle.template_build cleans up on every path', () => {
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await startLocalRuntime({ templates, poolSize: 0 });
  });
  afterAll(async () => {
    await rt?.stop();
  });
  const context = (options: Record<string, unknown>) =>
    makeTestContext(templateBuild, {
      options: { verify: false, ...options },
      target: {
        name: 'local',
        cloud_provider: 'local',
        e2b: { api_url: rt.apiUrl, sandbox_url: rt.sandboxUrl, api_key: rt.apiKey, admin_token: rt.adminToken },
      },
      // Without verify the probe needs only the connection (no sandbox is created).
      sandboxes: {
        ...NO_SANDBOXES,
        connection: { apiUrl: rt.apiUrl, sandboxUrl: rt.sandboxUrl, apiKey: rt.apiKey },
      },
    });
  const leftovers = async () => ({
    templates: (await adminStatus(rt.apiUrl, rt.adminToken)).templateBuilds.templates,
    files: files(path.join(rt.dataDir, 'template-builds')).filter((f) => !['layers', 'uploads'].includes(f)),
  });

  it('deletes the template when the build fails', async () => {
    const ctx = context({ from_template: 'no-such-template' });
    await expect(templateBuild.run(ctx)).rejects.toThrow(/no-such-template/);
    expect((await leftovers()).templates).toHaveLength(1);
    await ctx.runDeferred();
    expect(await leftovers()).toEqual({ templates: [], files: [] });
    expect(ctx.observations).toEqual([]);
  });

  it('deletes the template when the run is aborted mid-build', async () => {
    const ctx = context({});
    const running = templateBuild.run(ctx);
    // Abort once the runtime is building (the template exists there, the SDK has not returned its id).
    await expect
      .poll(async () => (await adminStatus(rt.apiUrl, rt.adminToken)).templateBuilds.templates.length, {
        timeout: 30_000,
        interval: 20,
      })
      .toBe(1);
    ctx.abort();
    await expect(running).rejects.toThrow();
    await ctx.runDeferred();
    await expect.poll(leftovers, { timeout: 10_000 }).toEqual({ templates: [], files: [] });
    expect(ctx.observations).toEqual([]);
  });
});

describe.runIf(canRun && GvisorDriver.available())('lifecycle.template_build on a target that cannot build', () => {
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await startLocalRuntime({ driver: 'gvisor', templates: 'host', poolSize: 0 });
  });
  afterAll(async () => {
    await rt?.stop();
  });

  it('skips as unsupported with the runtime’s reason, before building anything', async () => {
    const ctx = makeTestContext(templateBuild, {
      target: {
        name: 'gv',
        cloud_provider: 'local',
        e2b: { api_url: rt.apiUrl, sandbox_url: rt.sandboxUrl, api_key: rt.apiKey, admin_token: rt.adminToken },
      },
    });
    const err = await templateBuild.run(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProbeSkip);
    expect((err as ProbeSkip).reason).toBe('unsupported');
    expect((err as ProbeSkip).message).toMatch(/gv: template builds are implemented for the namespace driver only/);
    expect(ctx.observations).toEqual([]);
  });
});
