import { FileNotFoundError, Sandbox } from 'e2b';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRunSandboxes, startFixture, type RuntimeFixture } from './helpers.js';

describe.skipIf(!canRunSandboxes)('local runtime: files through the unmodified SDK', () => {
  let fx: RuntimeFixture;
  let sb: Sandbox;

  beforeAll(async () => {
    fx = await startFixture();
    sb = await fx.create();
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it('writes and reads text and bytes; files belong to the user', async () => {
    const info = await sb.files.write('/home/user/notes/a.txt', 'hello files');
    expect(info.path).toBe('/home/user/notes/a.txt');
    expect(await sb.files.read('/home/user/notes/a.txt')).toBe('hello files');
    const bytes = new Uint8Array(70_000).map((_, i) => i % 251);
    await sb.files.write('bin.dat', bytes.buffer);
    const back = await sb.files.read('/home/user/bin.dat', { format: 'bytes' });
    expect(Buffer.from(back).equals(Buffer.from(bytes))).toBe(true);
    const owner = await sb.commands.run('stat -c %U:%G /home/user/notes/a.txt /home/user/notes');
    expect(owner.stdout).toBe('user:user\nuser:user\n');
  });

  it('writes with gzip / octet-stream and reads with gzip', async () => {
    await sb.files.write('/tmp/gz.txt', 'compressed '.repeat(1000), { gzip: true });
    expect(await sb.files.read('/tmp/gz.txt', { gzip: true })).toBe('compressed '.repeat(1000));
    await sb.files.write('/tmp/octet.txt', 'octet', { useOctetStream: true });
    expect((await sb.commands.run('cat /tmp/octet.txt')).stdout).toBe('octet');
  });

  it('writes several files at once', async () => {
    const res = await sb.files.write([
      { path: '/tmp/multi/one.txt', data: 'one' },
      { path: '/tmp/multi/two.txt', data: 'two' },
    ]);
    expect(res.map((r) => r.path).sort()).toEqual(['/tmp/multi/one.txt', '/tmp/multi/two.txt']);
    expect((await sb.commands.run('cat /tmp/multi/one.txt /tmp/multi/two.txt')).stdout).toBe('onetwo');
  });

  it('sees files written by commands and vice versa', async () => {
    await sb.commands.run('echo from-cmd > /home/user/cmd.txt');
    expect(await sb.files.read('/home/user/cmd.txt')).toBe('from-cmd\n');
  });

  it('lists directories with entry details', async () => {
    await sb.files.makeDir('/tmp/list/sub');
    await sb.files.write('/tmp/list/f.txt', '12345');
    const entries = await sb.files.list('/tmp/list');
    expect(entries.map((e) => `${e.name}:${e.type}`)).toEqual(['f.txt:file', 'sub:dir']);
    const f = entries.find((e) => e.name === 'f.txt')!;
    expect(f.size).toBe(5);
    expect(f.path).toBe('/tmp/list/f.txt');
    expect(f.owner).toBe('user');
    expect(f.permissions).toMatch(/^-rw/);
    const deep = await sb.files.list('/tmp', { depth: 2 });
    expect(deep.map((e) => e.path)).toContain('/tmp/list/sub');
  });

  it('checks existence, makes directories, renames and removes', async () => {
    expect(await sb.files.exists('/tmp/nothing-here')).toBe(false);
    expect(await sb.files.makeDir('/tmp/mk/a/b')).toBe(true);
    expect(await sb.files.makeDir('/tmp/mk/a/b')).toBe(false);
    expect(await sb.files.exists('/tmp/mk/a/b')).toBe(true);
    await sb.files.write('/tmp/mk/old.txt', 'x');
    const moved = await sb.files.rename('/tmp/mk/old.txt', '/tmp/mk/new.txt');
    expect(moved.path).toBe('/tmp/mk/new.txt');
    expect(await sb.files.exists('/tmp/mk/old.txt')).toBe(false);
    expect(await sb.files.read('/tmp/mk/new.txt')).toBe('x');
    await sb.files.remove('/tmp/mk');
    expect(await sb.files.exists('/tmp/mk')).toBe(false);
    const info = await sb.files.getInfo('/tmp');
    expect(info.type).toBe('dir');
  });

  it('raises FileNotFoundError for missing files', async () => {
    await expect(sb.files.read('/tmp/missing.txt')).rejects.toBeInstanceOf(FileNotFoundError);
    await expect(sb.files.list('/tmp/missing-dir')).rejects.toBeInstanceOf(FileNotFoundError);
    // envd removes like `rm -rf`: a missing path is no error.
    await expect(sb.files.remove('/tmp/missing-too')).resolves.toBeUndefined();
    await expect(sb.files.rename('/tmp/missing-src', '/tmp/x')).rejects.toBeInstanceOf(FileNotFoundError);
  });

  it('keeps symlinks inside the sandbox (no escape to the host)', async () => {
    // The host has this file; the sandbox does not. A link to it must resolve inside the sandbox.
    await sb.commands.run(
      'ln -sf /etc/machine-id /home/user/escape; ln -sf ../../../../../etc/machine-id /home/user/escape2',
    );
    await expect(sb.files.read('/home/user/escape')).rejects.toBeInstanceOf(FileNotFoundError);
    await expect(sb.files.read('/home/user/escape2')).rejects.toBeInstanceOf(FileNotFoundError);
  });

  it('watches a directory for changes made inside the sandbox', async () => {
    await sb.files.makeDir('/home/user/watched');
    const events: { name: string; type: string }[] = [];
    const handle = await sb.files.watchDir(
      '/home/user/watched',
      (e) => void events.push({ name: e.name, type: e.type }),
    );
    await sb.commands.run('echo a > /home/user/watched/new.txt; sleep 0.1; rm /home/user/watched/new.txt');
    for (let i = 0; i < 50 && !events.some((e) => e.type === 'remove'); i++)
      await new Promise((r) => setTimeout(r, 20));
    await handle.stop();
    expect(events.filter((e) => e.name === 'new.txt').map((e) => e.type)).toEqual(
      expect.arrayContaining(['create', 'remove']),
    );
    await expect(sb.files.watchDir('/home/user/not-there', () => undefined)).rejects.toBeInstanceOf(FileNotFoundError);
  });

  it('serves signed upload and download URLs', async () => {
    const up = await sb.uploadUrl('/tmp/signed.txt');
    const put = await fetch(up, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'e2b-sandbox-id': sb.sandboxId },
      body: 'signed!',
    });
    expect(put.status).toBe(200);
    const down = await sb.downloadUrl('/tmp/signed.txt');
    const get = await fetch(down, { headers: { 'e2b-sandbox-id': sb.sandboxId } });
    expect(await get.text()).toBe('signed!');
    const bad = await fetch(down.replace(/signature=[^&]+/, 'signature=v1_bogus'), {
      headers: { 'e2b-sandbox-id': sb.sandboxId },
    });
    expect(bad.status).toBe(401);
  });
});
