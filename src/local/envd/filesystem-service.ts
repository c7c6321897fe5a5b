import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import { chown, lstat, mkdir, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import {
  ListDirResponseSchema,
  WatchDirResponseSchema,
  type EntryInfo,
  type Filesystem,
} from './gen/filesystem/filesystem_pb.js';
import { AsyncQueue } from './queue.js';
import { fsError, fsReason, sandboxOf, userOf } from './context.js';
import { entryInfo } from './entry.js';
import { resolveInRoot, sandboxPath } from './paths.js';
import { nameMaps } from './session.js';
import { watchDirectory } from './watchers.js';
import { readMetadata } from './xattr.js';
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
  const found: Array<{ host: string; inside: string }> = [];
  const walk = async (hostDir: string, insideDir: string, level: number) => {
    const entries = await readdir(hostDir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const host = path.join(hostDir, e.name);
      const inside = path.posix.join(insideDir, e.name);
      found.push({ host, inside });
      if (e.isDirectory() && level < depth) await walk(host, inside, level + 1);
    }
  };
  await walk(r.host, r.inside, 1);
  // One getfattr for the whole listing rather than one per entry.
  const metadata = await readMetadata(found.map((f) => f.host));
  const out: EntryInfo[] = [];
  for (const f of found) {
    try {
      out.push(await entryInfo({ root: r.root, ...f }, names, metadata.get(f.host) ?? {}));
    } catch {
      continue; // vanished meanwhile
    }
  }
  return out;
}

export const filesystemService: Partial<ServiceImpl<typeof Filesystem>> = {
  async stat(req, ctx) {
    const r = await resolve(ctx, req.path, false);
    try {
      return { entry: await entryInfo(r, await nameMaps(sandboxOf(ctx))) };
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
      return { entry: await entryInfo(r, await nameMaps(sandboxOf(ctx))) };
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
      return { entry: await entryInfo(dst, await nameMaps(sandboxOf(ctx))) };
    } catch (err) {
      throw fsError(err, `move ${src.inside} to ${dst.inside}`);
    }
  },

  async remove(req, ctx) {
    const r = await resolve(ctx, req.path, false);
    try {
      // envd removes like `rm -rf`: a missing path is not an error.
      await rm(r.host, { recursive: true, force: true });
      return {};
    } catch (err) {
      throw fsError(err, `remove ${r.inside}`);
    }
  },

  async *watchDir(req, ctx) {
    const r = await watchable(ctx, req.path, req.allowNetworkMounts);
    type Item = ReturnType<typeof create<typeof WatchDirResponseSchema>>;
    const q = new AsyncQueue<Item>();
    const watcher = watchDirectory(
      r,
      { recursive: req.recursive, includeEntry: req.includeEntry, names: () => nameMaps(sandboxOf(ctx)) },
      (value) => q.push(create(WatchDirResponseSchema, { event: { case: 'filesystem', value } })),
      (err) => q.fail(fsError(err, `watch ${r.inside}`)),
    );
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

  async createWatcher(req, ctx) {
    const r = await watchable(ctx, req.path, req.allowNetworkMounts);
    const sb = sandboxOf(ctx);
    const watcherId = sb.watchers.add(r, {
      recursive: req.recursive,
      includeEntry: req.includeEntry,
      names: () => nameMaps(sb),
    });
    return { watcherId };
  },

  async getWatcherEvents(req, ctx) {
    let events;
    try {
      events = sandboxOf(ctx).watchers.take(req.watcherId);
    } catch (err) {
      throw new ConnectError(`watcher error: ${fsReason(err)}`, Code.Internal);
    }
    if (!events) throw new ConnectError(`watcher with id ${req.watcherId} not found`, Code.NotFound);
    return { events };
  },

  async removeWatcher(req, ctx) {
    if (!sandboxOf(ctx).watchers.remove(req.watcherId))
      throw new ConnectError(`watcher with id ${req.watcherId} not found`, Code.NotFound);
    return {};
  },
};

/** statfs magic numbers of network filesystems (NFS, CIFS, SMB, SMB2, FUSE), which inotify cannot see into. */
const NETWORK_FS = new Set([0x6969, 0xff534d42, 0x517b, 0xfe534d42, 0x65735546]);

/** A directory that can be watched: envd refuses files, missing paths and, unless allowed, network mounts. */
async function watchable(ctx: HandlerContext, p: string, allowNetworkMounts: boolean): Promise<Resolved> {
  const r = await resolve(ctx, p);
  try {
    if (!(await stat(r.host)).isDirectory())
      throw new ConnectError(`path ${r.inside} not a directory`, Code.InvalidArgument);
    if (!allowNetworkMounts && NETWORK_FS.has((await statfs(r.host)).type))
      throw new ConnectError(`cannot watch path on network filesystem: ${r.inside}`, Code.InvalidArgument);
  } catch (err) {
    throw fsError(err, `watch ${r.inside}`);
  }
  return r;
}
