import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { Sandbox, SandboxNotFoundError, TimeoutError } from 'e2b';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventType, Filesystem } from '../../src/local/envd/gen/filesystem/filesystem_pb.js';
import { canRunSandboxes, startFixture, type RuntimeFixture } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tokenOf = (sb: Sandbox) => (sb as unknown as { envdAccessToken: string }).envdAccessToken;

/** Poll until `check` returns a value (bounded). */
async function until<T>(check: () => Promise<T | undefined>, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(50);
  }
}

describe.skipIf(!canRunSandboxes)('local runtime: what the SDK expects of E2B', () => {
  let fx: RuntimeFixture;
  let sb: Sandbox;

  beforeAll(async () => {
    fx = await startFixture({ maxSandboxes: 20 });
    sb = await fx.create();
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it('issues API keys in E2B format (e2b_ + 40 hex digits)', () => {
    expect(fx.rt.apiKey).toMatch(/^e2b_[0-9a-f]{40}$/);
  });

  it('reports envd 0.6.4: file metadata on write and stat, includeEntry and allowNetworkMounts in watches', async () => {
    expect((await sb.getInfo()).envdVersion).toBe('0.6.4');
    // Keys travel as header names (X-Metadata-<key>), which HTTP/1.1 clients send in lower case.
    const meta = { owner: 'bench', 'trace-id': 'abc 123', empty: '' };
    const written = await sb.files.write('/home/user/meta/a.txt', 'x', { metadata: meta });
    expect(written.metadata).toEqual(meta);
    expect((await sb.files.getInfo('/home/user/meta/a.txt')).metadata).toEqual(meta);
    const listed = await sb.files.list('/home/user/meta');
    expect(listed.find((e) => e.name === 'a.txt')?.metadata).toEqual(meta);
    await sb.files.write('/home/user/meta/plain.txt', 'y', { useOctetStream: true, metadata: { k: 'v' } });
    expect((await sb.files.getInfo('/home/user/meta/plain.txt')).metadata).toEqual({ k: 'v' });
    // Metadata lives with the file: a move keeps it.
    await sb.files.rename('/home/user/meta/plain.txt', '/home/user/meta/moved.txt');
    expect((await sb.files.getInfo('/home/user/meta/moved.txt')).metadata).toEqual({ k: 'v' });

    const events: Array<{ name: string; type: string; size?: number }> = [];
    const handle = await sb.files.watchDir(
      '/home/user/meta',
      (e) => void events.push({ name: e.name, type: e.type, size: e.entry?.size }),
      { includeEntry: true, allowNetworkMounts: true },
    );
    await sb.commands.run('printf 12345 > /home/user/meta/new.txt');
    await until(async () => (events.some((e) => e.name === 'new.txt' && e.size === 5) ? true : undefined));
    await handle.stop();
  });

  it('removes a missing path without error, and errors never name host paths', async () => {
    await expect(sb.files.remove('/tmp/never-existed')).resolves.toBeUndefined();
    await sb.files.write('/tmp/gone/x.txt', 'x');
    await sb.files.remove('/tmp/gone');
    expect(await sb.files.exists('/tmp/gone')).toBe(false);
    const errors = await Promise.all([
      sb.files.read('/tmp/missing/file').catch((e: Error) => e.message),
      sb.files.list('/tmp/missing').catch((e: Error) => e.message),
      sb.files.getInfo('/tmp/missing').catch((e: Error) => e.message),
      sb.files.rename('/tmp/missing', '/tmp/else').catch((e: Error) => e.message),
    ]);
    for (const msg of errors) {
      expect(msg).toMatch(/missing/);
      expect(msg).not.toMatch(/\/proc\/|\/root\/|e2b-bench|overlay/);
    }
  });

  it('stats a symlink as its target: target type and an absolute symlinkTarget', async () => {
    await sb.commands.run(
      'mkdir -p /home/user/ln/dir && echo hi > /home/user/ln/t.txt && cd /home/user/ln && ln -sf t.txt f && ln -sfn dir d && ln -sf nowhere dangling',
    );
    const f = await sb.files.getInfo('/home/user/ln/f');
    expect(f.type).toBe('file');
    expect(f.symlinkTarget).toBe('/home/user/ln/t.txt');
    const d = await sb.files.getInfo('/home/user/ln/d');
    expect(d.type).toBe('dir');
    expect(d.symlinkTarget).toBe('/home/user/ln/dir');
    const dangling = await sb.files.getInfo('/home/user/ln/dangling');
    expect(dangling.type).toBeUndefined();
    expect(dangling.symlinkTarget).toBe('/home/user/ln/dangling');
  });

  it('serves signed /files URLs without a sandbox id header, and refuses expired ones', async () => {
    const other = await fx.create(); // the signature, not the first sandbox found, picks the sandbox
    const up = await sb.uploadUrl('/tmp/signed-noheader.txt');
    expect(new URL(up).searchParams.get('signature')).toBeTruthy();
    const put = await fetch(up, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'ok',
    });
    expect(put.status).toBe(200);
    const get = await fetch(await sb.downloadUrl('/tmp/signed-noheader.txt'));
    expect(await get.text()).toBe('ok');
    expect(await other.files.exists('/tmp/signed-noheader.txt')).toBe(false);
    const expired = await fetch(await sb.downloadUrl('/tmp/signed-noheader.txt', { useSignatureExpiration: -60 }));
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({ code: 401, message: 'signature is already expired' });
    const forged = await fetch(up.replace(/signature=[^&]+/, 'signature=v1_bogus'), { method: 'POST', body: 'x' });
    expect(forged.status).toBe(401);
    await other.kill();
  });

  it('lists newest first by default, oldest first with order=asc, and honours startedAfter', async () => {
    const tag = `order-${Date.now()}`;
    const made: Sandbox[] = [];
    for (let i = 0; i < 3; i++) {
      made.push(await fx.create({ metadata: { tag } }));
      await sleep(20);
    }
    const ids = made.map((s) => s.sandboxId);
    const list = (o: object) =>
      Sandbox.list({ ...fx.conn, query: { metadata: { tag } }, ...o })
        .nextItems()
        .then((items) => items.map((s) => s.sandboxId));
    expect(await list({})).toEqual([...ids].reverse());
    expect(await list({ order: 'asc' })).toEqual(ids);
    const second = await made[1]!.getInfo();
    expect(
      await Sandbox.list({ ...fx.conn, query: { metadata: { tag }, startedAfter: second.startedAt }, order: 'asc' })
        .nextItems()
        .then((items) => items.map((s) => s.sandboxId)),
    ).toEqual(ids.slice(1));
    await Promise.all(made.map((s) => s.kill()));
  });

  it('answers metrics for a time range from a per-sandbox history', async () => {
    const info = await sb.getInfo();
    const before = await sb.getMetrics({
      start: new Date(info.startedAt.getTime() - 3_600_000),
      end: new Date(info.startedAt.getTime() - 1_800_000),
    });
    expect(before).toEqual([]);
    const first = await sb.getMetrics();
    await sleep(1_100);
    const all = await sb.getMetrics();
    expect(all.length).toBeGreaterThan(first.length);
    const recent = await sb.getMetrics({ start: new Date(Date.now() - 60_000), end: new Date(Date.now() + 60_000) });
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.every((m) => m.timestamp.getTime() >= info.startedAt.getTime() - 1_000)).toBe(true);
  });

  it("breaks a running command's stream when the sandbox is killed (the SDK reports a killed sandbox)", async () => {
    const victim = await fx.create();
    const running = victim.commands.run('echo started; sleep 60').catch((e: unknown) => e);
    await until(async () => ((await victim.commands.list()).length > 0 ? true : undefined));
    await Sandbox.kill(victim.sandboxId, fx.conn);
    const err = await running;
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/sandbox was killed/);
  });

  it('pauses without memory (keepMemory: false): files kept, processes rebooted on resume', async () => {
    const fsb = await fx.create();
    await fsb.files.write('/home/user/kept.txt', 'on disk');
    await fsb.commands.run('sleep 300', { background: true });
    expect((await fsb.commands.list()).length).toBe(1);
    expect(await fsb.pause({ keepMemory: false })).toBe(true);
    expect((await fsb.getInfo()).state).toBe('paused');
    const back = await Sandbox.connect(fsb.sandboxId, fx.conn);
    expect(await back.files.read('/home/user/kept.txt')).toBe('on disk');
    expect(await back.commands.list()).toEqual([]); // the sleep did not survive: a reboot
    expect((await back.commands.run('echo again')).stdout).toBe('again\n');
    // A second filesystem-only pause stacks on the first.
    await back.files.write('/home/user/second.txt', 'two');
    await back.pause({ keepMemory: false });
    const again = await Sandbox.connect(fsb.sandboxId, fx.conn);
    expect((await again.commands.run('cat /home/user/kept.txt /home/user/second.txt')).stdout).toBe('on disktwo');
    await again.kill();
  });

  it('pauses on timeout without memory when created with onTimeout keepMemory: false', async () => {
    const tsb = await fx.create({ timeoutMs: 1_500, lifecycle: { onTimeout: { action: 'pause', keepMemory: false } } });
    await tsb.files.write('/tmp/t.txt', 'kept');
    await tsb.commands.run('sleep 300', { background: true });
    await until(async () => ((await tsb.getInfo()).state === 'paused' ? true : undefined), 15_000);
    const back = await Sandbox.connect(tsb.sandboxId, fx.conn);
    expect(await back.files.read('/tmp/t.txt')).toBe('kept');
    expect(await back.commands.list()).toEqual([]);
    await back.kill();
  });

  it('forks a running sandbox: each fork starts from a copy of its filesystem', async () => {
    const src = await fx.create({ metadata: { role: 'fork-source' } });
    await src.files.write('/home/user/state.txt', 'before fork');
    const forks = await Sandbox.fork(src.sandboxId, { ...fx.conn, count: 2, timeoutMs: 60_000 });
    expect(forks).toHaveLength(2);
    const [a, b] = forks as Sandbox[];
    expect(a).toBeInstanceOf(Sandbox);
    expect(b).toBeInstanceOf(Sandbox);
    expect(new Set([a!.sandboxId, b!.sandboxId, src.sandboxId]).size).toBe(3);
    expect(await a!.files.read('/home/user/state.txt')).toBe('before fork');
    await a!.files.write('/home/user/state.txt', 'changed in a');
    expect(await b!.files.read('/home/user/state.txt')).toBe('before fork');
    expect(await src.files.read('/home/user/state.txt')).toBe('before fork');
    expect((await src.getInfo()).state).toBe('running'); // the source keeps running
    await Promise.all([a!.kill(), b!.kill(), src.kill()]);
    await expect(Sandbox.fork('nosuchsandbox0000000', fx.conn)).rejects.toBeInstanceOf(SandboxNotFoundError);
  });

  // The JS SDK streams watches (WatchDir); only the Python SDK's sync watch_dir polls with
  // CreateWatcher / GetWatcherEvents / RemoveWatcher, and Python's SDK cannot be installed here. So
  // these RPCs are driven by a Connect client generated from our own envd protos, as that SDK would.
  it('serves the polling watcher RPCs (CreateWatcher / GetWatcherEvents / RemoveWatcher)', async () => {
    const transport = createConnectTransport({
      baseUrl: fx.rt.sandboxUrl,
      httpVersion: '1.1',
      interceptors: [
        (next) => async (req) => {
          req.header.set('e2b-sandbox-id', sb.sandboxId);
          req.header.set('x-access-token', tokenOf(sb));
          return next(req);
        },
      ],
    });
    const fs = createClient(Filesystem, transport);
    await sb.files.makeDir('/home/user/polled/sub');
    const { watcherId } = await fs.createWatcher({ path: '/home/user/polled', recursive: true, includeEntry: true });
    expect(watcherId).toMatch(/^w/);
    await sb.commands.run('echo abc > /home/user/polled/sub/deep.txt; rm -f /home/user/polled/none');
    const seen = await until(async () => {
      const { events } = await fs.getWatcherEvents({ watcherId });
      const created = events.find((e) => e.name === 'sub/deep.txt' && e.type === EventType.CREATE);
      return created ? events : undefined;
    });
    expect(seen.find((e) => e.name === 'sub/deep.txt')?.entry?.path).toBe('/home/user/polled/sub/deep.txt');
    // Events are handed out once.
    await sb.commands.run('rm /home/user/polled/sub/deep.txt');
    const later = await until(async () => {
      const { events } = await fs.getWatcherEvents({ watcherId });
      return events.length > 0 ? events : undefined;
    });
    expect(later.some((e) => e.type === EventType.CREATE)).toBe(false);
    expect(later.some((e) => e.type === EventType.REMOVE && e.name === 'sub/deep.txt')).toBe(true);
    await fs.removeWatcher({ watcherId });
    const gone = await fs.getWatcherEvents({ watcherId }).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ConnectError);
    expect((gone as ConnectError).code).toBe(Code.NotFound);
    const notDir = await fs.createWatcher({ path: '/etc/hostname' }).catch((e: unknown) => e);
    expect((notDir as ConnectError).code).toBe(Code.InvalidArgument);
  });
});
