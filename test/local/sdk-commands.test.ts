import { CommandExitError, Sandbox, SandboxError } from 'e2b';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRunSandboxes, startFixture, type RuntimeFixture } from './helpers.js';

describe.skipIf(!canRunSandboxes)('local runtime: commands through the unmodified SDK', () => {
  let fx: RuntimeFixture;
  let sb: Sandbox;

  beforeAll(async () => {
    fx = await startFixture();
    sb = await fx.create({ envs: { FROM_CREATE: 'create-value' } });
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it('runs a command: stdout, stderr, exit code', async () => {
    const r = await sb.commands.run('echo out; echo err >&2; printf "%s" "$((6*7))"');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('out\n42');
    expect(r.stderr).toBe('err\n');
  });

  it('raises CommandExitError on a non-zero exit, with the output', async () => {
    const err = await sb.commands.run('echo partial; exit 3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandExitError);
    expect((err as CommandExitError).exitCode).toBe(3);
    expect((err as CommandExitError).stdout).toBe('partial\n');
  });

  it('runs as the template user by default and as root on request', async () => {
    expect((await sb.commands.run('id -un')).stdout.trim()).toBe('user');
    expect((await sb.commands.run('id -u', { user: 'root' })).stdout.trim()).toBe('0');
    expect((await sb.commands.run('pwd')).stdout.trim()).toBe('/home/user');
  });

  it('applies env vars (create-time and per command) and cwd', async () => {
    const r = await sb.commands.run('echo "$FROM_CREATE $PER_CMD"; pwd', {
      envs: { PER_CMD: 'cmd-value' },
      cwd: '/tmp',
    });
    expect(r.stdout).toBe('create-value cmd-value\n/tmp\n');
    await expect(sb.commands.run('true', { cwd: '/does/not/exist' })).rejects.toThrow(/does not exist/);
  });

  it('runs commands under bash -l (a login shell)', async () => {
    const r = await sb.commands.run('shopt -q login_shell && echo login; echo "$0"');
    expect(r.stdout).toBe('login\n/bin/bash\n');
  });

  it('starts a background command, lists it, and kills it', async () => {
    const h = await sb.commands.run('sleep 30', { background: true });
    expect(h.pid).toBeGreaterThan(0);
    const listed = await sb.commands.list();
    expect(listed.map((p) => p.pid)).toContain(h.pid);
    expect(await h.kill()).toBe(true);
    const err = await h.wait().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandExitError);
    expect((err as CommandExitError).exitCode).toBe(-1);
    expect((await sb.commands.list()).map((p) => p.pid)).not.toContain(h.pid);
    expect(await sb.commands.kill(h.pid)).toBe(false);
  });

  it('streams output of a running command and lets a late connect see the exit', async () => {
    const chunks: string[] = [];
    const h = await sb.commands.run('for i in 1 2 3; do echo line$i; sleep 0.05; done; exit 4', {
      background: true,
      onStdout: (d) => void chunks.push(d),
    });
    const err = await h.wait().catch((e: unknown) => e);
    expect((err as CommandExitError).exitCode).toBe(4);
    expect(chunks.join('')).toBe('line1\nline2\nline3\n');
    const again = await sb.commands.connect(h.pid);
    const err2 = await again.wait().catch((e: unknown) => e);
    expect((err2 as CommandExitError).exitCode).toBe(4);
  });

  it('feeds stdin and closes it', async () => {
    const h = await sb.commands.run('cat; echo done', { background: true, stdin: true });
    await sb.commands.sendStdin(h.pid, 'hello stdin\n');
    await sb.commands.closeStdin(h.pid);
    const r = await h.wait();
    expect(r.stdout).toBe('hello stdin\ndone\n');
  });

  it('bounds a command by its timeout (Connect-Timeout-Ms) and kills it', async () => {
    const started = Date.now();
    const err = await sb.commands
      .run('sleep 20; echo survived > /tmp/survived', { timeoutMs: 1000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(15_000);
    // The process was killed with the stream, not left running.
    await new Promise((r) => setTimeout(r, 300));
    const ps = await sb.commands.run('ps -eo args');
    expect(ps.stdout).not.toContain('sleep 20');
  });

  it('reports isRunning and getInfo', async () => {
    expect(await sb.isRunning()).toBe(true);
    const info = await sb.getInfo();
    expect(info.sandboxId).toBe(sb.sandboxId);
    expect(info.templateId).toBe('base');
    expect(info.state).toBe('running');
    expect(info.cpuCount).toBeGreaterThan(0);
    expect(info.memoryMB).toBeGreaterThan(0);
    expect(info.endAt.getTime()).toBeGreaterThan(info.startedAt.getTime());
    expect(info.envdVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('kills a sandbox; a second kill and calls on it report it gone', async () => {
    const other = await fx.create();
    expect(await other.kill()).toBe(true);
    expect(await other.kill()).toBe(false);
    expect(await other.isRunning()).toBe(false);
    await expect(other.commands.run('true')).rejects.toThrow();
    await expect(Sandbox.getInfo(other.sandboxId, fx.conn)).rejects.toThrow(/not found/i);
  });

  it('answers 404 for an unknown sandbox', async () => {
    await expect(Sandbox.connect('nosuchsandbox0000000', fx.conn)).rejects.toThrow(/not found/i);
    expect(await Sandbox.kill('nosuchsandbox0000000', fx.conn)).toBe(false);
  });

  it('rejects a bad API key', async () => {
    await expect(Sandbox.create({ ...fx.conn, apiKey: 'e2b_wrong' })).rejects.toThrow(/Unauthorized|401/);
    await expect(Sandbox.list({ ...fx.conn, apiKey: 'e2b_wrong' }).nextItems()).rejects.toThrow(/Unauthorized|401/);
  });

  it('rejects a bad envd access token', async () => {
    const forged = new (Sandbox as unknown as new (o: Record<string, unknown>) => Sandbox)({
      ...fx.conn,
      sandboxId: sb.sandboxId,
      envdVersion: '0.6.1',
      envdAccessToken: 'not-the-token',
    });
    await expect(forged.commands.run('true')).rejects.toThrow(/unauthenticated|401|credentials/i);
    await expect(forged.files.read('/etc/hostname')).rejects.toThrow(/401|invalid|unauth/i);
    // Sanity: the real token works.
    expect((await sb.files.read('/etc/hostname')).trim()).toBe('e2b');
  });

  it('is a SandboxError subclass for API errors', async () => {
    const err = await Sandbox.getInfo('nosuchsandbox0000000', fx.conn).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxError);
  });
});
