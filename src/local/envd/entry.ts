import type { Stats } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { EntryInfoSchema, FileType, type EntryInfo } from './gen/filesystem/filesystem_pb.js';
import { resolveInRoot } from './paths.js';
import type { NameMaps } from './session.js';
import { readMetadata } from './xattr.js';

/** `drwxr-xr-x` style permission string (as Go's FileMode.String renders it). */
export function permissionString(st: Pick<Stats, 'mode' | 'isDirectory' | 'isSymbolicLink'>): string {
  const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'L' : '-';
  const bits = 'rwxrwxrwx';
  let out = '';
  for (let i = 0; i < 9; i++) out += st.mode & (1 << (8 - i)) ? bits[i] : '-';
  return type + out;
}

export function fileType(st: Stats): FileType {
  if (st.isSymbolicLink()) return FileType.SYMLINK;
  if (st.isDirectory()) return FileType.DIRECTORY;
  return FileType.FILE;
}

/** Where a path lives: the sandbox root on the host, the host path, and the path inside the sandbox. */
export interface EntryLocation {
  root: string;
  host: string;
  inside: string;
}

/**
 * EntryInfo as envd reports it: a symlink is described by its target (type and mode of what it
 * points to, `symlinkTarget` the absolute resolved path inside the sandbox; a dangling link has an
 * unspecified type and its own path as target), and `metadata` from the file's `user.*` xattrs.
 */
export async function entryInfo(
  at: EntryLocation,
  names: NameMaps,
  metadata?: Record<string, string>,
): Promise<EntryInfo> {
  const lst = await lstat(at.host);
  let st: Stats | undefined = lst;
  let type = fileType(lst);
  let symlinkTarget: string | undefined;
  if (lst.isSymbolicLink()) {
    const target = await resolveInRoot(at.root, at.inside, true);
    st = await stat(target).catch(() => undefined);
    symlinkTarget = st ? '/' + path.relative(at.root, target) : at.inside;
    type = st ? fileType(st) : FileType.UNSPECIFIED;
  }
  const meta = metadata ?? (await readMetadata([at.host])).get(at.host);
  return create(EntryInfoSchema, {
    name: path.posix.basename(at.inside) || '/',
    type,
    path: at.inside,
    size: BigInt(lst.size),
    mode: st ? st.mode & 0o777 : 0,
    permissions: permissionString(lst),
    owner: names.users.get(lst.uid) ?? String(lst.uid),
    group: names.groups.get(lst.gid) ?? String(lst.gid),
    modifiedTime: timestampFromMs(Math.floor(lst.mtimeMs)),
    symlinkTarget,
    metadata: meta ?? {},
  });
}
