import { CommandExitError, type CommandHandle, type Sandbox } from 'e2b';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GvisorDriver } from '../../src/local/driver/gvisor.js';
import { canRunSandboxes, startFixture, type RuntimeFixture } from './helpers.js';

const drivers = [
  { driver: 'namespace' as const, runs: canRunSandboxes },
  { driver: 'gvisor' as const, runs: canRunSandboxes && GvisorDriver.available() },
];

/** A pty opened through the SDK, with everything it printed so far. */
async function openTerminal(sb: Sandbox, size: { cols: number; rows: number }) {
  const decoder = new TextDecoder();
  const term = { out: '', handle: undefined as unknown as CommandHandle };
  term.handle = await sb.pty.create({ ...size, onData: (d) => void (term.out += decoder.decode(d, { stream: true })) });
  return term;
}

async function waitFor(term: { out: string }, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(term.out);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`no ${pattern} in terminal output: ${JSON.stringify(term.out)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const input = (s: string) => new TextEncoder().encode(s);

describe.each(drivers)('local runtime ($driver): pty through the unmodified SDK', ({ driver, runs }) => {
  let fx: RuntimeFixture;
  let sb: Sandbox;

  beforeAll(async () => {
    if (!runs) return;
    fx = await startFixture({ driver });
    sb = await fx.create();
  });
  afterAll(async () => {
    await fx?.stop();
  });

  it.skipIf(!runs)('runs a shell on a terminal of the asked size inside the sandbox, and resizes it', async () => {
    const term = await openTerminal(sb, { cols: 91, rows: 27 });
    // Markers are built by the shell, so the echoed input line cannot match them.
    await sb.pty.sendInput(term.handle.pid, input('echo "A$((1+1)) $(tty) $TERM $(hostname) $(id -un)"; stty size\n'));
    const [, tty] = await waitFor(term, /A2 (\S+) xterm-256color e2b user\r\n27 91\r\n/);
    expect(tty).toMatch(/^\/dev\/pts\/\d+$/);
    // The terminal echoes what is typed, as a real one does.
    expect(term.out).toContain('echo "A$((1+1))');

    // A resize reaches the foreground program as SIGWINCH (it prints, then ends).
    const winch = `import os, signal, time; signal.signal(signal.SIGWINCH, lambda *a: (print("WIN" "CH", flush=True), os._exit(0))); print("RE" "ADY", flush=True); time.sleep(60)`;
    await sb.pty.sendInput(term.handle.pid, input(`python3 -c '${winch}'\n`));
    await waitFor(term, /READY\r\n/);
    await sb.pty.resize(term.handle.pid, { cols: 120, rows: 40 });
    await waitFor(term, /WINCH\r\n/);
    await sb.pty.sendInput(term.handle.pid, input('echo "B$((2+2)) $(stty size) $(tput cols)"\n'));
    await waitFor(term, /B4 40 120 120\r\n/);

    await sb.pty.sendInput(term.handle.pid, input('exit 5\n'));
    const err = await term.handle.wait().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandExitError);
    expect((err as CommandExitError).exitCode).toBe(5);
  });

  it.skipIf(!runs)('kill ends the terminal and its stream', async () => {
    const term = await openTerminal(sb, { cols: 80, rows: 24 });
    await sb.pty.sendInput(term.handle.pid, input('echo "C$((3+3))"\n'));
    await waitFor(term, /C6\r\n/);
    expect((await sb.commands.list()).map((p) => p.pid)).toContain(term.handle.pid);
    expect(await sb.pty.kill(term.handle.pid)).toBe(true);
    const err = await term.handle.wait().catch((e: unknown) => e);
    expect((err as CommandExitError).exitCode).toBe(-1);
    expect((await sb.commands.list()).map((p) => p.pid)).not.toContain(term.handle.pid);
    expect(await sb.pty.kill(term.handle.pid)).toBe(false);
    // The terminal was hung up: the shell on it got SIGHUP and is gone too.
    const shells = async () =>
      (await sb.commands.run('ps -eo args')).stdout.split('\n').filter((l) => l.startsWith('/bin/bash -i -l'));
    const deadline = Date.now() + 10_000;
    while ((await shells()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await shells()).toEqual([]);
  });

  it.skipIf(!runs)('refuses pty input and resize for a command without a terminal', async () => {
    const h = await sb.commands.run('sleep 30', { background: true });
    await expect(sb.pty.sendInput(h.pid, input('x'))).rejects.toThrow(/tty not assigned/);
    await expect(sb.pty.resize(h.pid, { cols: 10, rows: 10 })).rejects.toThrow(/tty not assigned/);
    await h.kill();
  });
});
