import { ApiClient, BuildError, ConnectionConfig, Template } from 'e2b';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreTemplateProvider } from '../../src/local/index.js';
import { canRunSandboxes, mountsWith, startFixture, type RuntimeFixture } from './helpers.js';

// The built base template when the shared store has it (the build reuses its cached image), else
// the host-derived development templates: either way a real runtime driven by the unmodified SDK.
const built = canRunSandboxes && (await new StoreTemplateProvider().available());

/** Every file and directory under `dir`, relative. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).map(String);
}

describe.runIf(canRunSandboxes)('local runtime: template builds through the SDK (Template.build)', () => {
  let fx: RuntimeFixture;
  let ctxDir: string;
  let api: ApiClient;

  beforeAll(async () => {
    fx = await startFixture({ templates: built ? 'store' : 'host', poolSize: 0 });
    ctxDir = await mkdtemp(path.join(os.tmpdir(), 'build-ctx-'));
    await writeFile(path.join(ctxDir, 'hello.txt'), 'hello from the build context\n');
    api = new ApiClient(new ConnectionConfig(fx.conn));
  });
  afterAll(async () => {
    await fx?.stop();
    if (ctxDir) await rm(ctxDir, { recursive: true, force: true });
  });

  it('builds a template from base with COPY, RUN, ENV, WORKDIR and USER; its sandboxes see the result', async () => {
    const logs: string[] = [];
    const template = Template({ fileContextPath: ctxDir })
      .fromTemplate('base')
      .copy('hello.txt', '/opt/app/', { user: 'root', mode: 0o640 })
      .setEnvs({ GREETING: 'built' })
      .setWorkdir('/opt/app')
      .runCmd('echo "$GREETING in $(pwd) as $(whoami)" > made-by-run', { user: 'root' })
      .setUser('root');
    const info = await Template.build(template, 'sdk-build-test', {
      ...fx.conn,
      onBuildLogs: (e) => logs.push(e.message),
    });
    expect(info.name).toBe('sdk-build-test');
    expect(logs.some((l) => l.includes("Uploaded 'hello.txt'"))).toBe(true);

    const sb = await fx.create({ template: 'sdk-build-test' });
    const r = await sb.commands.run(
      'cat /opt/app/hello.txt /opt/app/made-by-run; stat -c "%U %a" /opt/app/hello.txt; whoami',
    );
    expect(r.stdout).toBe('hello from the build context\nbuilt in /opt/app as root\nroot 640\nroot\n');
    // The parent template is untouched: a base sandbox has none of it.
    const plain = await fx.create({ template: 'base' });
    expect((await plain.commands.run('ls /opt/app 2>&1 || true')).stdout).toMatch(/No such file/);
    await plain.kill();

    // Listed and described by id and name.
    const list = await api.api.GET('/templates');
    expect(list.data?.map((t) => t.templateID)).toContain(info.templateId);
    const got = await api.api.GET('/templates/{templateID}', { params: { path: { templateID: info.templateId } } });
    expect(got.data?.builds.map((b) => [b.buildID, b.status])).toEqual([[info.buildId, 'ready']]);

    // Deleted while a sandbox still uses it: no new sandboxes, the running one keeps its files,
    // and the layer goes with the last sandbox.
    const layers = path.join(fx.rt.dataDir, 'template-builds', 'layers');
    expect(tree(layers).some((p) => p.startsWith(info.buildId))).toBe(true);
    const del = await api.api.DELETE('/templates/{templateID}', {
      params: { path: { templateID: info.templateId } },
    });
    expect(del.response.status).toBe(204);
    expect(
      (await api.api.GET('/templates/{templateID}', { params: { path: { templateID: info.templateId } } })).response
        .status,
    ).toBe(404);
    expect((await api.api.GET('/templates')).data?.map((t) => t.templateID)).not.toContain(info.templateId);
    await expect(fx.create({ template: 'sdk-build-test' })).rejects.toThrow(/not found/);
    expect((await sb.commands.run('cat /opt/app/made-by-run')).stdout).toBe('built in /opt/app as root\n');
    await sb.kill();
    await expect.poll(() => tree(layers), { timeout: 10_000 }).toEqual([]);
    expect(tree(path.join(fx.rt.dataDir, 'template-builds')).filter((p) => p.includes(info.templateId))).toEqual([]);
    expect(mountsWith(info.buildId)).toEqual([]);
  });

  it('reports a failing step as a BuildError naming the step, and leaves no layer', async () => {
    const template = Template().fromTemplate('base').runCmd('echo about to fail; exit 3');
    const err = await Template.build(template, 'sdk-build-fails', fx.conn).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as Error).message).toMatch(/step 1 failed: exit code 3/);
    expect(tree(path.join(fx.rt.dataDir, 'template-builds', 'layers'))).toEqual([]);
    const id = (await api.api.GET('/templates/aliases/{alias}', { params: { path: { alias: 'sdk-build-fails' } } }))
      .data?.templateID;
    expect(id).toBeTruthy();
    expect(
      (await api.api.DELETE('/templates/{templateID}', { params: { path: { templateID: id! } } })).response.status,
    ).toBe(204);
  });

  it('refuses image bases: nothing may be downloaded at build time', async () => {
    const err = await Template.build(Template().fromImage('debian:12'), 'sdk-build-image', fx.conn).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BuildError);
    expect((err as Error).message).toMatch(/fromTemplate/);
  });
});
