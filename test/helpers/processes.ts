/**
 * Processes in tests: servers the tests start, each stopped by its pid (SIGTERM, then SIGKILL after a
 * grace period), its output kept for failure messages; and pids found in /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A free loopback port (the listener is closed again before the server binds it). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface Proc {
  name: string;
  pid: number;
  /** Last lines of stdout + stderr. */
  output(): string;
  exited(): boolean;
  stop(graceMs?: number): Promise<void>;
}

export function startProcess(
  name: string,
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Proc {
  const child: ChildProcess = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    name,
    pid: child.pid,
    output: () => out,
    exited,
    async stop(graceMs = 30_000) {
      if (exited()) return;
      process.kill(child.pid!, 'SIGTERM');
      // The grace timer goes with the process: a pending one would keep the caller's event loop alive.
      const grace = new AbortController();
      await Promise.race([done, sleep(graceMs, undefined, { signal: grace.signal }).catch(() => undefined)]);
      grace.abort();
      if (!exited()) {
        process.kill(child.pid!, 'SIGKILL');
        await done;
      }
    },
  };
}

/** Polls `check` until it returns true; fails with the process output when the process dies first. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  proc: Proc,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exited()) throw new Error(`${proc.name} exited while waiting for ${what}:\n${proc.output()}`);
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${proc.output()}`);
}

export async function httpOk(url: string): Promise<boolean> {
  const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return r.ok;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** True while pid runs (a zombie waiting to be reaped counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Pids whose command line starts with `name` and contains `marker` (e.g. a unique file name). */
export function pidsMatching(name: string, marker: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSafe('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0].endsWith(name) && argv.some((a) => a.includes(marker)) && alive(Number(entry)))
        out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Polls a synchronous condition every 50 ms until it holds. */
export async function waitUntil(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
