import { CommandExitError, Sandbox } from 'e2b';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRunSandboxes, mountsWith, startFixture, type RuntimeFixture } from './helpers.js';

function sandboxCgroups(fx: RuntimeFixture): string[] {
  return fx.rt.cgroupDirs.flatMap((d) =>
    existsSync(d)
      ? readdirSync(d, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => path.join(d, e.name))
      : [],
  );
}

/** A process, for failure messages. */
function describe_(pid: number): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(status)?.[1];
    return `${pid} ${field('Name')} ${field('State')} ppid=${field('PPid')} ${readFileSync(`/proc/${pid}/cgroup`, 'utf8').replace(/\n/g, ' ')}`;
  } catch {
    return `${pid} gone`;
  }
}

function pidsIn(dirs: string[]): number[] {
  const pids = new Set<number>();
  for (const d of dirs) {
    try {
      for (const l of readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l.trim()) pids.add(Number(l));
    } catch {
      // gone
    }
  }
  return [...pids];
}

describe.skipIf(!canRunSandboxes)('local runtime: isolation (namespace driver)', () => {
  let fx: RuntimeFixture;
  let sb: Sandbox;

  beforeAll(async () => {
    fx = await startFixture();
    sb = await fx.create();
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it('sees none of the host processes', async () => {
    const r = await sb.commands.run('for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done');
    const cmdlines = r.stdout.split('\n').filter(Boolean);
    expect(cmdlines.length).toBeLessThan(10);
    expect(r.stdout).not.toMatch(/vitest|node /);
    expect((await sb.commands.run('cat /proc/1/cmdline | tr "\\0" " "')).stdout).toMatch(/^bwrap/);
    // The test runner's own pid means nothing inside.
    await expect(sb.commands.run(`kill -0 ${process.pid}`, { user: 'root' })).rejects.toBeInstanceOf(CommandExitError);
  });

  it('cannot write the host filesystem outside its overlay', async () => {
    const marker = `e2b-isolation-${Date.now()}`;
    await sb.commands.run(`echo x > /${marker} && echo x > /etc/${marker}`, { user: 'root' });
    expect(existsSync(`/${marker}`)).toBe(false);
    expect(existsSync(`/etc/${marker}`)).toBe(false);
    // The write landed in this sandbox's upper layer.
    const uppers = readdirSync(path.join(fx.rt.dataDir, 'sandboxes')).map((d) =>
      path.join(fx.rt.dataDir, 'sandboxes', d, 'upper', marker),
    );
    expect(uppers.some((p) => existsSync(p))).toBe(true);
    // Bound host directories are read-only, and root may not remount or make devices.
    await expect(sb.commands.run(`touch /usr/${marker}`, { user: 'root' })).rejects.toBeInstanceOf(CommandExitError);
    await expect(sb.commands.run('mount -o remount,rw /usr', { user: 'root' })).rejects.toBeInstanceOf(
      CommandExitError,
    );
    await expect(sb.commands.run('mount -t tmpfs none /mnt', { user: 'root' })).rejects.toBeInstanceOf(
      CommandExitError,
    );
    await expect(sb.commands.run('mknod /tmp/disk b 8 0', { user: 'root' })).rejects.toBeInstanceOf(CommandExitError);
    expect(existsSync(`/usr/${marker}`)).toBe(false);
  });

  it('holds the memory limit: the hog is OOM-killed, the sandbox and host carry on', async () => {
    const small = await fx.create({ template: 'small' });
    const info = await small.getInfo();
    expect(info.memoryMB).toBe(256);
    const err = await small.commands
      .run(`python3 -c "b = b'x' * (${info.memoryMB * 2} * 1024 * 1024); print(len(b))"`)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandExitError);
    expect((err as CommandExitError).stdout).toBe('');
    expect((err as CommandExitError).exitCode === 137 || (err as CommandExitError).error?.includes('killed')).toBe(
      true,
    );
    // Under the limit works, in the same sandbox.
    const ok = await small.commands.run(`python3 -c "b = b'x' * (64 * 1024 * 1024); print(len(b))"`);
    expect(ok.stdout.trim()).toBe(String(64 * 1024 * 1024));
    expect(await sb.isRunning()).toBe(true);
    await small.kill();
  });

  it('leaves no process, mount or cgroup behind after kill', async () => {
    const victim = await fx.create();
    await victim.commands.run('sleep 600', { background: true, timeoutMs: 0 });
    await victim.commands.run('nohup sleep 601 >/dev/null 2>&1 &');
    const before = new Set(sandboxCgroups(fx));
    const ownMounts = () => mountsWith(path.join(fx.rt.dataDir, 'sandboxes'));
    const mountsBefore = ownMounts().length;
    const pidsBefore = pidsIn([...before]);
    expect(pidsBefore.length).toBeGreaterThan(3);
    await victim.kill();
    const after = new Set(sandboxCgroups(fx));
    expect(before.size - after.size).toBe(fx.rt.cgroupDirs.length); // one group per hierarchy gone
    expect(ownMounts().length).toBe(mountsBefore - 1);
    const survivors = pidsBefore.filter((p) => existsSync(`/proc/${p}`) && !pidsIn([...after]).includes(p));
    expect(survivors.map(describe_)).toEqual([]);
  });

  it('stop() removes every sandbox, mount and cgroup of the runtime', async () => {
    const own = await startFixture();
    const a = await own.create();
    await a.commands.run('sleep 600', { background: true, timeoutMs: 0 });
    expect(sandboxCgroups(own).length).toBeGreaterThan(0);
    const pids = pidsIn(sandboxCgroups(own));
    await own.stop();
    expect(mountsWith(own.rt.dataDir)).toEqual([]);
    for (const d of own.rt.cgroupDirs) expect(existsSync(d)).toBe(false);
    expect(pids.filter((p) => existsSync(`/proc/${p}`)).map(describe_)).toEqual([]);
    expect(existsSync(own.rt.dataDir)).toBe(false);
  });
});
