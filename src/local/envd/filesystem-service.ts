import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import { watch } from 'node:fs';
import { access, chown, lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  EventType,
  ListDirResponseSchema,
  WatchDirResponseSchema,
  type EntryInfo,
  type Filesystem,
} from './gen/filesystem/filesystem_pb.js';
import { AsyncQueue } from './queue.js';
import { fsError, sandboxOf, userOf } from './context.js';
import { entryInfo } from './entry.js';
import { resolveInRoot, sandboxPath } from './paths.js';
import { nameMaps } from './session.js';
import type { SandboxUser } from './users.js';

interface Resolved {
  root: string;
  user: SandboxUser;
  /** Path inside the sandbox (absolute, normalised). */
  inside: string;
  /** Where that path is on the host. */
  host: string;
}

async function resolve(ctx: HandlerContext, p: string, followLast = true): Promise<Resolved> {
  const sb = sandboxOf(ctx);
  if (!p) throw new ConnectError('path is required', Code.InvalidArgument);
  const user = await userOf(ctx, sb);
  const root = sb.driver.rootPath(sb.driverSandbox);
  const inside = sandboxPath(p, user.home);
  return { root, user, inside, host: await resolveInRoot(root, inside, followLast) };
}

/** Create missing directories down to `inside`, owned by the user; returns true if it created the last one. */
export async function makeDirs(root: string, inside: string, user: SandboxUser): Promise<boolean> {
  const parts = inside.split('/').filter(Boolean);
  let created = false;
  for (let i = 1; i <= parts.length; i++) {
    const sub = '/' + parts.slice(0, i).join('/');
    const host = await resolveInRoot(root, sub);
    try {
      await mkdir(host);
      await chown(host, user.uid, user.gid);
      created = i === parts.length;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!(await stat(host)).isDirectory())
        throw Object.assign(new Error(`${sub} exists and is not a directory`), { code: 'ENOTDIR' });
    }
  }
  return created;
}

async function listEntries(ctx: HandlerContext, r: Resolved, depth: number): Promise<EntryInfo[]> {
  const names = await nameMaps(sandboxOf(ctx));
  const out: EntryInfo[] = [];
  const walk = async (hostDir: string, insideDir: string, level: number) => {
    const entries = await readdir(hostDir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const host = path.join(hostDir, e.name);
      const inside = path.posix.join(insideDir, e.name);
      try {
        out.push(await entryInfo(host, inside, names));
      } catch {
        continue; // vanished meanwhile
      }
      if (e.isDirectory() && level < depth) await walk(host, inside, level + 1);
    }
  };
  await walk(r.host, r.inside, 1);
  return out;
}

export const filesystemService: Partial<ServiceImpl<typeof Filesystem>> = {
  async stat(req, ctx) {
    const r = await resolve(ctx, req.path, false);
    try {
      return { entry: await entryInfo(r.host, r.inside, await nameMaps(sandboxOf(ctx))) };
    } catch (err) {
      throw fsError(err, `stat ${r.inside}`);
    }
  },

  async listDir(req, ctx) {
    const r = await resolve(ctx, req.path);
    try {
      const st = await stat(r.host);
      if (!st.isDirectory()) throw new ConnectError(`${r.inside} is not a directory`, Code.InvalidArgument);
      return create(ListDirResponseSchema, { entries: await listEntries(ctx, r, Math.max(1, req.depth || 1)) });
    } catch (err) {
      throw fsError(err, `list ${r.inside}`);
    }
  },

  async makeDir(req, ctx) {
    const r = await resolve(ctx, req.path);
    try {
      const existed = await lstat(r.host).then(
        () => true,
        () => false,
      );
      if (existed) throw new ConnectError(`${r.inside} already exists`, Code.AlreadyExists);
      await makeDirs(r.root, r.inside, r.user);
      return { entry: await entryInfo(r.host, r.inside, await nameMaps(sandboxOf(ctx))) };
    } catch (err) {
      throw fsError(err, `make dir ${r.inside}`);
    }
  },

  async move(req, ctx) {
    const src = await resolve(ctx, req.source, false);
    const dst = await resolve(ctx, req.destination, false);
    try {
      await lstat(src.host);
      await makeDirs(dst.root, path.posix.dirname(dst.inside), dst.user);
      await rename(src.host, await resolveInRoot(dst.root, dst.inside, false));
      return { entry: await entryInfo(dst.host, dst.inside, await nameMaps(sandboxOf(ctx))) };
    } catch (err) {
      throw fsError(err, `move ${src.inside} to ${dst.inside}`);
    }
  },

  async remove(req, ctx) {
    const r = await resolve(ctx, req.path, false);
    try {
      await lstat(r.host);
      await rm(r.host, { recursive: true, force: true });
      return {};
    } catch (err) {
      throw fsError(err, `remove ${r.inside}`);
    }
  },

  /** Directory events from inotify (fs.watch): rename → create or remove, change → write. */
  async *watchDir(req, ctx) {
    const r = await resolve(ctx, req.path);
    try {
      if (!(await stat(r.host)).isDirectory())
        throw new ConnectError(`${r.inside} is not a directory`, Code.InvalidArgument);
    } catch (err) {
      throw fsError(err, `watch ${r.inside}`);
    }
    type Item = ReturnType<typeof create<typeof WatchDirResponseSchema>>;
    const q = new AsyncQueue<Item>();
    const watcher = watch(r.host, { recursive: req.recursive, persistent: false }, (kind, name) => {
      if (!name) return;
      const rel = String(name);
      const host = path.join(r.host, rel);
      void access(host)
        .then(
          () => true,
          () => false,
        )
        .then((exists) => {
          const type = kind === 'change' ? EventType.WRITE : exists ? EventType.CREATE : EventType.REMOVE;
          q.push(create(WatchDirResponseSchema, { event: { case: 'filesystem', value: { name: rel, type } } }));
        });
    });
    watcher.on('error', (err) => q.fail(fsError(err, `watch ${r.inside}`)));
    const every = Number(ctx.requestHeader.get('keepalive-ping-interval'));
    const timer =
      every > 0
        ? setInterval(
            () => q.push(create(WatchDirResponseSchema, { event: { case: 'keepalive', value: {} } })),
            every * 1000,
          )
        : undefined;
    const onAbort = () => q.close();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      yield create(WatchDirResponseSchema, { event: { case: 'start', value: {} } });
      for await (const item of q) yield item;
    } finally {
      watcher.close();
      if (timer) clearInterval(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    }
  },
};
