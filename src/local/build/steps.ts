import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { DriverSandbox, SandboxDriver } from '../driver/types.js';
import { commandEnv, resolveUserIn } from '../envd/session.js';
import type { BuildStep } from './request.js';

/** A step that failed: its index in the plan (the SDK maps it to the caller's source line). */
export class StepError extends Error {
  constructor(
    readonly step: number,
    message: string,
  ) {
    super(message);
    this.name = 'StepError';
  }
}

export interface StepContext {
  driver: SandboxDriver;
  sandbox: DriverSandbox;
  /** Who later steps run as, where, with which variables (USER, WORKDIR, ENV change them). */
  user: string;
  workdir?: string;
  env: Record<string, string>;
  /** Host path of an uploaded COPY archive, by files hash. */
  upload(hash: string): string | undefined;
  log(level: 'info' | 'error', message: string, step: number): void;
  signal: AbortSignal;
}

/*
 * COPY inside the sandbox (its own tar, as root, confined to its filesystem): unpack the uploaded
 * archive to a scratch directory, copy the matches of `src` to `dest` as Docker's COPY does (a
 * directory's contents; a file into an existing directory or a path ending in `/`; else to that
 * path), then owner and mode.
 */
const COPY_SCRIPT = `set -eu
src=$1 dest=$2 owner=$3 mode=$4 zip=$5
tmp=$(mktemp -d /tmp/.e2b-copy-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
tar -x$zip -f - -C "$tmp" --no-same-owner
cd "$tmp"
set -- $src
[ -e "$1" ] || { echo "COPY: '$src' is not in the uploaded files" >&2; exit 1; }
case "$dest" in */) mkdir -p "$dest" ;; esac
for s; do
  if [ -d "$s" ]; then mkdir -p "$dest"; cp -a "$s/." "$dest/"; t=$dest
  elif [ -d "$dest" ]; then cp -a "$s" "$dest/"; t="$dest/$(basename "$s")"
  else mkdir -p "$(dirname "$dest")"; cp -a "$s" "$dest"; t=$dest; fi
  chown -R "$owner:" "$t"
  [ -z "$mode" ] || chmod -R "$mode" "$t"
done`;

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Runs `argv` in the build sandbox as `user`, its output as build log lines; rejects unless it exits 0. */
async function exec(
  c: StepContext,
  step: number,
  argv: string[],
  opts: { user: string; cwd?: string; stdin?: Readable },
): Promise<void> {
  const root = c.driver.rootPath(c.sandbox);
  let u;
  try {
    u = await resolveUserIn(root, opts.user);
  } catch (err) {
    throw new StepError(step, (err as Error).message);
  }
  const proc = await c.driver.exec(c.sandbox, {
    argv,
    env: commandEnv(u, c.env, {}),
    cwd: opts.cwd ?? u.home,
    uid: u.uid,
    gid: u.gid,
    stdin: opts.stdin !== undefined,
  });
  const onAbort = () => proc.signal('SIGKILL');
  c.signal.addEventListener('abort', onAbort, { once: true });
  if (opts.stdin && proc.stdin) {
    opts.stdin.pipe(proc.stdin);
    proc.stdin.on('error', () => undefined);
  }
  const lines = (s: Readable, level: 'info' | 'error') =>
    new Promise<void>((resolve) => {
      const rl = createInterface({ input: s, crlfDelay: Infinity });
      rl.on('line', (l) => c.log(level, l, step));
      rl.on('close', resolve);
    });
  try {
    const [status] = await Promise.all([proc.done, lines(proc.stdout, 'info'), lines(proc.stderr, 'error')]);
    c.signal.throwIfAborted();
    if (status.code !== 0)
      throw new StepError(
        step,
        `step ${step} failed: ${status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`}`,
      );
  } finally {
    c.signal.removeEventListener('abort', onAbort);
  }
}

/** A path of a step made absolute against the current workdir (default: the current user's home). */
async function absolute(c: StepContext, p: string, step: number): Promise<string> {
  // A trailing `/` means "into this directory" (COPY): keep it.
  const slash = p.endsWith('/') && p !== '/' ? '/' : '';
  if (c.workdir) return path.posix.resolve(c.workdir, p) + slash;
  try {
    return path.posix.resolve((await resolveUserIn(c.driver.rootPath(c.sandbox), c.user)).home, p) + slash;
  } catch (err) {
    throw new StepError(step, (err as Error).message);
  }
}

/** Runs one step (index `step`, 1-based as E2B counts them after the base) in the build sandbox. */
export async function runStep(c: StepContext, s: BuildStep, step: number): Promise<void> {
  switch (s.type) {
    case 'RUN':
      c.log('info', `RUN ${s.command}`, step);
      return exec(c, step, ['/bin/bash', '-l', '-c', s.command], { user: s.user ?? c.user, cwd: c.workdir });
    case 'COPY': {
      const file = c.upload(s.filesHash);
      if (!file) throw new StepError(step, `COPY ${s.src}: files ${s.filesHash} were not uploaded`);
      c.log('info', `COPY ${s.src} ${s.dest}`, step);
      const zip = (await isGzip(file)) ? 'z' : '';
      const owner = s.user ?? c.user;
      const mode = s.mode === undefined ? '' : s.mode.toString(8);
      return exec(
        c,
        step,
        ['/bin/sh', '-c', COPY_SCRIPT, 'copy', s.src, await absolute(c, s.dest, step), owner, mode, zip],
        {
          user: 'root',
          cwd: '/',
          stdin: createReadStream(file),
        },
      );
    }
    case 'ENV':
      for (const [k, v] of s.vars) c.env[k] = v;
      c.log('info', `ENV ${s.vars.map(([k]) => k).join(' ')}`, step);
      return;
    case 'WORKDIR': {
      const dir = await absolute(c, s.path, step);
      c.log('info', `WORKDIR ${dir}`, step);
      await exec(c, step, ['/bin/mkdir', '-p', dir], { user: 'root', cwd: '/' });
      c.workdir = dir;
      return;
    }
    case 'USER':
      c.log('info', `USER ${s.user}`, step);
      try {
        await resolveUserIn(c.driver.rootPath(c.sandbox), s.user);
      } catch (err) {
        throw new StepError(step, (err as Error).message);
      }
      c.user = s.user;
      return;
  }
}
