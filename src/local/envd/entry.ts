import type { Stats } from 'node:fs';
import { lstat, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { EntryInfoSchema, FileType, type EntryInfo } from './gen/filesystem/filesystem_pb.js';
import type { NameMaps } from './session.js';

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

/** EntryInfo of `hostPath`, reported under `sandboxPath`. */
export async function entryInfo(hostPath: string, sandboxPath: string, names: NameMaps): Promise<EntryInfo> {
  const lst = await lstat(hostPath);
  let st = lst;
  let symlinkTarget: string | undefined;
  if (lst.isSymbolicLink()) {
    symlinkTarget = await readlink(hostPath);
    st = await stat(hostPath).catch(() => lst);
  }
  return create(EntryInfoSchema, {
    name: path.posix.basename(sandboxPath) || '/',
    type: fileType(lst),
    path: sandboxPath,
    size: BigInt(st.size),
    mode: st.mode & 0o7777,
    permissions: permissionString(st),
    owner: names.users.get(st.uid) ?? String(st.uid),
    group: names.groups.get(st.gid) ?? String(st.gid),
    modifiedTime: timestampFromMs(Math.floor(st.mtimeMs)),
    symlinkTarget,
  });
}
