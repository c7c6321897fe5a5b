import { Sandbox } from 'e2b';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GvisorDriver } from '../../src/local/driver/gvisor.js';
import { canRunSandboxes, mountsWith, startFixture, type RuntimeFixture } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!canRunSandboxes || !GvisorDriver.available())('local runtime: gvisor driver', () => {
  let fx: RuntimeFixture;
  beforeAll(async () => {
    fx = await startFixture({ driver: 'gvisor' });
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it('runs commands and files under gVisor', async () => {
    const sb = await fx.create();
    expect(fx.rt.pauseKind).toBe('checkpoint');
    const r = await sb.commands.run('echo out; echo err >&2; dmesg 2>/dev/null | head -1; id -un');
    expect(r.stdout).toMatch(/^out\n/);
    expect(r.stdout).toMatch(/gVisor/i);
    expect(r.stdout.trim().endsWith('user')).toBe(true);
    expect(r.stderr).toBe('err\n');
    await sb.files.write('/home/user/g.txt', 'gvisor file');
    expect((await sb.commands.run('cat /home/user/g.txt')).stdout).toBe('gvisor file');
    const err = await sb.commands.run('exit 7').catch((e: unknown) => e);
    expect((err as { exitCode: number }).exitCode).toBe(7);
    await sb.kill();
  });

  it('keeps files and a running process memory across pause (checkpoint) and resume (restore)', async () => {
    const sb = await fx.create();
    await sb.files.write('/home/user/state.txt', 'on disk');
    // The secret exists only in the process's memory (and once in a file we delete).
    const script = [
      'import os, random, time',
      'secret = str(random.random())',
      "open('/home/user/secret.txt', 'w').write(secret)",
      'while True:',
      "    if os.path.exists('/home/user/ask'):",
      "        open('/home/user/answer.tmp', 'w').write(secret)",
      "        os.rename('/home/user/answer.tmp', '/home/user/answer')",
      "        os.remove('/home/user/ask')",
      '    time.sleep(0.05)',
    ].join('\n');
    await sb.files.write('/home/user/keeper.py', script);
    const h = await sb.commands.run('python3 /home/user/keeper.py', { background: true, timeoutMs: 0 });
    let secret = '';
    for (let i = 0; i < 200 && !secret; i++) {
      secret = (await sb.files.exists('/home/user/secret.txt')) ? await sb.files.read('/home/user/secret.txt') : '';
      if (!secret) await sleep(50);
    }
    expect(secret).toMatch(/^0\.\d+/);
    await sb.files.remove('/home/user/secret.txt');

    expect(await sb.pause()).toBe(true);
    expect((await sb.getInfo()).state).toBe('paused');
    expect(await sb.isRunning()).toBe(false);
    const resumed = await Sandbox.connect(sb.sandboxId, fx.conn);
    expect(await resumed.files.read('/home/user/state.txt')).toBe('on disk');
    expect((await resumed.commands.list()).map((p) => p.pid)).toContain(h.pid);
    await resumed.files.write('/home/user/ask', '1');
    let answer = '';
    for (let i = 0; i < 200 && !answer; i++) {
      if (await resumed.files.exists('/home/user/answer')) answer = await resumed.files.read('/home/user/answer');
      else await sleep(50);
    }
    expect(answer).toBe(secret);
    await resumed.kill();
  });

  it('creates a sandbox from a snapshot with its processes restored', async () => {
    const sb = await fx.create();
    await sb.commands.run('sleep 3600', { background: true, timeoutMs: 0 });
    await sb.files.write('/home/user/snap.txt', 'snap');
    const snap = await sb.createSnapshot();
    expect((await sb.commands.run('echo still-running')).stdout).toBe('still-running\n');
    const c = await fx.create({ template: snap.snapshotId });
    expect(await c.files.read('/home/user/snap.txt')).toBe('snap');
    expect((await c.commands.run('ps -eo args')).stdout).toContain('sleep 3600');
    await Promise.all([sb.kill(), c.kill()]);
  });

  it('leaves no process, mount or cgroup after kill', async () => {
    const sb = await fx.create();
    await sb.commands.run('sleep 3600', { background: true, timeoutMs: 0 });
    const groups = () =>
      fx.rt.cgroupDirs.flatMap((d) =>
        existsSync(d)
          ? readdirSync(d, { withFileTypes: true })
              .filter((e) => e.isDirectory())
              .map((e) => path.join(d, e.name))
          : [],
      );
    expect(groups().length).toBeGreaterThan(0);
    await sb.kill();
    expect(groups()).toEqual([]);
    expect(mountsWith(path.join(fx.rt.dataDir, 'sandboxes'))).toEqual([]);
  });
});
