import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreTemplateProvider } from '../../src/local/index.js';
import { canRunSandboxes, startFixture, type RuntimeFixture } from './helpers.js';
import { loopDevicesFreed, loopDevicesUnder, mountsUnder, removeDir, tempDir } from './template/helpers.js';

// The built template from the default store, served through a node cache of the test's own (so
// evictions here never make other tests' starts cold). Skipped where no template is built.
const built = canRunSandboxes && (await new StoreTemplateProvider().available());
if (canRunSandboxes && !built)
  console.warn('skipping image rootfs tests: no built template (e2b-bench template build)');

describe.skipIf(!built)('local runtime: template images mounted under the sandboxes', () => {
  let nodeDir: string;
  let fx: RuntimeFixture;
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

  // A kill answers before the template is released (unmounting is not on the kill's path), and
  // the kernel detaches an autoclear loop device shortly after the unmount, not during it.
  const released = async () => {
    await expect.poll(() => mountsUnder(nodeDir), { timeout: 10_000 }).toEqual([]);
    await loopDevicesFreed(nodeDir);
  };

  beforeAll(async () => {
    nodeDir = await tempDir('image-node');
    fx = await startFixture({ templates: new StoreTemplateProvider({ nodeDir }), poolSize: 0, tracerProvider });
  });
  afterAll(async () => {
    await fx?.stop();
    await tracerProvider.shutdown();
    await removeDir(nodeDir);
  });

  it('starts cold by copying and mounting the image, and releases mount and loop device on kill', async () => {
    exporter.reset();
    const sb = await fx.create();
    expect(mountsUnder(nodeDir)).toHaveLength(1);
    expect(loopDevicesUnder(nodeDir)).toHaveLength(1);
    const r = await sb.commands.run('python3 -c "print(6*7)" && touch /usr/local/mine && ls /usr/local/mine', {
      user: 'root',
    });
    expect(r.stdout).toBe('42\n/usr/local/mine\n');
    const spans = exporter.getFinishedSpans();
    const unpack = spans.find((s) => s.name === 'e2blocal.unpack');
    expect(unpack?.attributes['e2blocal.rootfs_path']).toBe('mount');
    expect(spans.map((s) => s.name)).toContain('e2blocal.template_fetch');
    await sb.kill();
    await released();

    // The image stays on the node: the next start mounts it again without a fetch.
    exporter.reset();
    const again = await fx.create();
    expect((await again.commands.run('ls /usr/local', { user: 'root' })).stdout).not.toContain('mine');
    const names = exporter.getFinishedSpans().map((s) => s.name);
    expect(names).toContain('e2blocal.template_mount');
    expect(names).not.toContain('e2blocal.template_fetch');
    await again.kill();
    await released();
  });

  it('keeps an evicted image mounted for the sandbox still using it, then releases everything', async () => {
    const sb = await fx.create();
    expect((await fx.admin('POST', '/admin/templates/base/evict')).status).toBe(200);
    expect((await sb.commands.run('cat /etc/hostname')).stdout).toBe('e2b\n');
    expect(mountsUnder(nodeDir)).toHaveLength(1);
    await sb.kill();
    await released();
    expect((await fx.admin('POST', '/admin/templates/base/evict')).status).toBe(200);
  });

  it('leaves no mount or loop device behind when the embedding process gets SIGTERM', async () => {
    const childNodeDir = await tempDir('image-node-sigterm');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures/store-runtime.ts')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, NODE_DIR: childNodeDir },
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`fixture exited early (${code})`)));
      });
      const { dataDir } = JSON.parse(line) as { dataDir: string };
      expect(mountsUnder(childNodeDir)).toHaveLength(1);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
      expect(mountsUnder(childNodeDir)).toEqual([]);
      expect(mountsUnder(dataDir)).toEqual([]);
      await loopDevicesFreed(childNodeDir);
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await removeDir(childNodeDir);
    }
  });
});
