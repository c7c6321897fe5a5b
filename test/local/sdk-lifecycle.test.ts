import { RateLimitError, Sandbox, ServiceBusyError } from 'e2b';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRunSandboxes, startFixture, type RuntimeFixture } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!canRunSandboxes)('local runtime: lifecycle through the unmodified SDK', () => {
  let fx: RuntimeFixture;

  beforeAll(async () => {
    fx = await startFixture({ maxSandboxes: 30 });
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it('kills a sandbox when its timeout expires (setTimeout shortens it)', async () => {
    const sb = await fx.create({ timeoutMs: 60_000 });
    await sb.setTimeout(1_000);
    const info = await sb.getInfo();
    expect(info.endAt.getTime() - Date.now()).toBeLessThan(2_000);
    await sleep(2_000);
    expect(await sb.isRunning()).toBe(false);
    await expect(sb.getInfo()).rejects.toThrow(/not found/i);
  });

  it('lists sandboxes with paging, a metadata filter and a state filter', async () => {
    const tag = `list-${Date.now()}`;
    const sbs = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => fx.create({ metadata: { tag, idx: String(i), 'key with space': 'a/b&c' } })),
    );
    const other = await fx.create({ metadata: { tag: 'someone-else' } });
    const seen: string[] = [];
    const pager = Sandbox.list({ ...fx.conn, limit: 2, query: { metadata: { tag } } });
    let pages = 0;
    while (pager.hasNext) {
      const items = await pager.nextItems();
      pages++;
      expect(items.length).toBeLessThanOrEqual(2);
      for (const it of items) {
        expect(it.metadata.tag).toBe(tag);
        seen.push(it.sandboxId);
      }
    }
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(sbs.map((s) => s.sandboxId).sort());
    const special = await Sandbox.list({ ...fx.conn, query: { metadata: { 'key with space': 'a/b&c' } } }).nextItems();
    expect(special.map((s) => s.sandboxId).sort()).toEqual(sbs.map((s) => s.sandboxId).sort());
    await sbs[0]!.pause();
    const paused = await Sandbox.list({ ...fx.conn, query: { metadata: { tag }, state: ['paused'] } }).nextItems();
    expect(paused.map((s) => s.sandboxId)).toEqual([sbs[0]!.sandboxId]);
    const running = await Sandbox.list({ ...fx.conn, query: { metadata: { tag }, state: ['running'] } }).nextItems();
    expect(running).toHaveLength(4);
    await Promise.all([...sbs, other].map((s) => s.kill()));
  });

  it('pauses (freeze) and connects again with files and processes kept', async () => {
    const sb = await fx.create();
    await sb.files.write('/tmp/state.txt', 'before pause');
    const loop = await sb.commands.run(
      'n=0; while true; do n=$((n+1)); echo $n > /tmp/c.tmp; mv /tmp/c.tmp /tmp/counter; sleep 0.05; done',
      {
        background: true,
        timeoutMs: 0,
      },
    );
    await sleep(300);
    expect(await sb.pause()).toBe(true);
    expect(await sb.pause()).toBe(false); // already paused: 409
    expect((await sb.getInfo()).state).toBe('paused');
    expect(await sb.isRunning()).toBe(false);
    await sleep(300);
    const resumed = await Sandbox.connect(sb.sandboxId, fx.conn);
    expect((await resumed.getInfo()).state).toBe('running');
    expect(await resumed.files.read('/tmp/state.txt')).toBe('before pause');
    const c1 = Number((await resumed.files.read('/tmp/counter')).trim());
    await sleep(300);
    const c2 = Number((await resumed.files.read('/tmp/counter')).trim());
    expect(c1).toBeGreaterThan(0);
    expect(c2).toBeGreaterThan(c1); // the same loop continues, it was not restarted
    expect((await resumed.commands.list()).map((p) => p.pid)).toContain(loop.pid);
    await resumed.kill();
  });

  it('snapshots a sandbox and creates new sandboxes from the snapshot', async () => {
    const sb = await fx.create();
    await sb.files.write('/home/user/snap.txt', 'in the snapshot');
    await sb.commands.run('mkdir -p /opt/x && echo root-file > /opt/x/f', { user: 'root' });
    const snap = await sb.createSnapshot({ name: `snap-${Date.now()}` });
    expect(snap.snapshotId).toBeTruthy();
    // The source keeps running and its later writes do not leak into the snapshot.
    await sb.files.write('/home/user/after.txt', 'after');
    const listed = await Sandbox.listSnapshots({ ...fx.conn, sandboxId: sb.sandboxId }).nextItems();
    expect(listed.map((s) => s.snapshotId)).toContain(snap.snapshotId);
    const a = await fx.create({ template: snap.snapshotId });
    const b = await fx.create({ template: snap.names[0] });
    for (const c of [a, b]) {
      expect(await c.files.read('/home/user/snap.txt')).toBe('in the snapshot');
      expect((await c.commands.run('cat /opt/x/f')).stdout).toBe('root-file\n');
      expect(await c.files.exists('/home/user/after.txt')).toBe(false);
    }
    // A snapshot of a restored sandbox stacks on its parent.
    await a.files.write('/home/user/second.txt', 'layer two');
    const snap2 = await a.createSnapshot();
    const c = await fx.create({ template: snap2.snapshotId });
    expect(await c.files.read('/home/user/snap.txt')).toBe('in the snapshot');
    expect(await c.files.read('/home/user/second.txt')).toBe('layer two');
    expect(await Sandbox.deleteSnapshot(snap2.snapshotId, fx.conn)).toBe(true);
    expect(await Sandbox.deleteSnapshot(snap2.snapshotId, fx.conn)).toBe(false);
    // Still usable by the sandbox created from it.
    expect(await c.files.read('/home/user/second.txt')).toBe('layer two');
    await Promise.all([sb, a, b, c].map((s) => s.kill()));
    expect(await Sandbox.deleteSnapshot(snap.snapshotId, fx.conn)).toBe(true);
  });

  it('creates 20 sandboxes concurrently, each able to run a command', async () => {
    const sbs = await Promise.all(Array.from({ length: 20 }, () => fx.create()));
    expect(new Set(sbs.map((s) => s.sandboxId)).size).toBe(20);
    const outs = await Promise.all(sbs.map((s) => s.commands.run('cat /proc/sys/kernel/hostname; echo $$')));
    for (const o of outs) expect(o.exitCode).toBe(0);
    await Promise.all(sbs.map((s) => s.kill()));
  });

  it('reports sandbox metrics from cgroup counters', async () => {
    const sb = await fx.create();
    await sb.commands.run('head -c 20000000 /dev/zero | md5sum > /dev/null');
    const [m] = await sb.getMetrics();
    expect(m).toBeDefined();
    expect(m!.cpuCount).toBeGreaterThan(0);
    expect(m!.memUsed).toBeGreaterThan(0);
    expect(m!.memTotal).toBe((await sb.getInfo()).memoryMB * 1024 * 1024);
    expect(m!.cpuUsedPct).toBeGreaterThanOrEqual(0);
    await sb.kill();
  });
});

describe.skipIf(!canRunSandboxes)('local runtime: capacity limits', () => {
  let fx: RuntimeFixture;
  beforeAll(async () => {
    fx = await startFixture({ maxSandboxes: 2, maxMemoryMb: 700 });
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it('answers 503 past the memory limit and 429 past the sandbox limit, with JSON bodies', async () => {
    await fx.create({ template: 'small' }); // 256 MiB
    await expect(fx.create({ template: 'base' })).rejects.toBeInstanceOf(ServiceBusyError); // 256 + 512 > 700
    await fx.create({ template: 'small' }); // 512 in use, 2 sandboxes
    await expect(fx.create({ template: 'small' })).rejects.toBeInstanceOf(RateLimitError);
    const res = await fetch(`${fx.rt.apiUrl}/v2/sandboxes`, {
      method: 'POST',
      headers: { 'x-api-key': fx.rt.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ templateID: 'small' }),
    });
    expect(res.status).toBe(429);
    const body = (await res.json()) as { code: number; message: string };
    expect(body.code).toBe(429);
    expect(body.message).toMatch(/maximum number of concurrent sandboxes/);
  });
});
