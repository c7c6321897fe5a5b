import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Sandbox } from 'e2b';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime } from '../../../src/local/index.js';
import { buildTemplates, TEMPLATE_INFO_PATH, type BuildResult } from '../../../src/local/template/build.js';
import { NodeTemplateCache, type EnsuredTemplate } from '../../../src/local/template/cache.js';
import { which } from '../../../src/local/template/proc.js';

// The real template: debootstrap + apt from the machine's Debian mirror, into the default template
// store, so a build made before the tests (CI runs buildTemplates first) is reused here. The
// first build on a machine takes a few minutes.
const debootstrap = await which('debootstrap');
const isRoot = process.getuid?.() === 0;
const skipReason = !debootstrap ? 'debootstrap is not installed' : !isRoot ? 'building needs root' : '';
if (skipReason) console.warn(`skipping the real template build: ${skipReason}`);

describe.skipIf(skipReason !== '')('real local template build', () => {
  let result: BuildResult;
  let provider: NodeTemplateCache;
  let t: EnsuredTemplate;

  beforeAll(async () => {
    result = await buildTemplates({
      log: (line) => {
        if (line.startsWith('[template]')) console.log(line);
      },
    });
    // The default node cache, shared with the runtime's tests: usually warm, never evicted here.
    provider = new NodeTemplateCache();
    t = await provider.ensure('base');
  }, 20 * 60_000);

  afterAll(async () => {
    await t?.release();
  });

  it('reuses the stored artifact while the recipe is unchanged', async () => {
    const again = await buildTemplates();
    expect(again.built).toBe(false);
    expect(again.artifact).toBe(result.artifact);
    expect(again.manifest.sha256).toBe(result.manifest.sha256);
    expect(again.manifest.package_versions.sysbench).toMatch(/^\d/);
  });

  it('unpacks a rootfs with the benchmark tools and runtimes', async () => {
    expect(t.artifact).toBe(result.key);
    for (const bin of [
      'usr/bin/sysbench',
      'usr/bin/python3',
      'usr/bin/node',
      'usr/bin/npm',
      'usr/bin/fio',
      'usr/bin/iperf3',
      'usr/bin/stress-ng',
      'usr/bin/curl',
      'bin/bash',
    ]) {
      expect(existsSync(join(t.rootfs, bin)), bin).toBe(true);
    }
    const info = JSON.parse(await readFile(join(t.rootfs, TEMPLATE_INFO_PATH), 'utf8'));
    expect(info.key).toBe(result.key);
  });

  it('has the user account with its home, and no build-host leftovers', async () => {
    const passwd = await readFile(join(t.rootfs, 'etc', 'passwd'), 'utf8');
    expect(passwd).toMatch(/^user:x:1000:1000:[^:]*:\/home\/user:\/bin\/bash$/m);
    const home = await stat(join(t.rootfs, 'home', 'user'));
    expect([home.uid, home.gid]).toEqual([1000, 1000]);
    expect(existsSync(join(t.rootfs, 'home', 'user', '.profile'))).toBe(true);
    expect(await readFile(join(t.rootfs, 'etc', 'resolv.conf'), 'utf8')).toBe('');
    expect(existsSync(join(t.rootfs, 'var', 'lib', 'apt', 'lists', 'lock'))).toBe(false);
  });

  it('runs python3 and node through a login shell as user', () => {
    // Read-only bind of the cached rootfs, as a sandbox's lower layer is.
    const out = execFileSync(
      'bwrap',
      [
        '--ro-bind',
        t.rootfs,
        '/',
        '--proc',
        '/proc',
        '--dev',
        '/dev',
        '--tmpfs',
        '/tmp',
        '--unshare-pid',
        '--unshare-ipc',
        '--unshare-uts',
        '--unshare-user',
        '--uid',
        '1000',
        '--gid',
        '1000',
        '--die-with-parent',
        '--clearenv',
        '--setenv',
        'HOME',
        '/home/user',
        '--setenv',
        'PATH',
        '/usr/local/bin:/usr/bin:/bin',
        '--chdir',
        '/home/user',
        '/bin/bash',
        '-l',
        '-c',
        'id -un; python3 -c "print(6*7)"; node -e "console.log(6*7)"; sysbench --version',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    const [user, py, node, sysbench] = out.trim().split('\n');
    expect(user).toBe('user');
    expect(py).toBe('42');
    expect(node).toBe('42');
    expect(sysbench).toMatch(/^sysbench \d/);
  });

  it("has git, and sudo without a password for user, as E2B's base template (through the SDK)", async () => {
    const rt = await startLocalRuntime({ templates: 'store', poolSize: 0 });
    try {
      const sb = await Sandbox.create('base', { apiKey: rt.apiKey, apiUrl: rt.apiUrl, sandboxUrl: rt.sandboxUrl });
      try {
        const r = await sb.commands.run('id -un; git --version; sudo -n id -u; sudo -n -u user id -un');
        const [who, git, rootId, back] = r.stdout.trim().split('\n');
        expect(who).toBe('user');
        expect(git).toMatch(/^git version \d/);
        expect(rootId).toBe('0');
        expect(back).toBe('user');
      } finally {
        await sb.kill();
      }
    } finally {
      await rt.stop();
    }
  }, 120_000);
});
