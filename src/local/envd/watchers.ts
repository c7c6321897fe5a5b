import { create } from '@bufbuild/protobuf';
import { randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { entryInfo, type EntryLocation } from './entry.js';
import { EventType, FilesystemEventSchema, type FilesystemEvent } from './gen/filesystem/filesystem_pb.js';
import type { NameMaps } from './session.js';

export interface WatchOptions {
  recursive: boolean;
  /** Attach the entry's EntryInfo to events whose entry still exists (envd >= 0.6.3). */
  includeEntry: boolean;
  names: () => Promise<NameMaps>;
}

/**
 * Directory events from inotify (fs.watch): a rename of a name that now exists is a create, of
 * one that does not a remove; a change is a write. Events keep the order inotify gave them.
 */
export function watchDirectory(
  dir: EntryLocation,
  o: WatchOptions,
  onEvent: (e: FilesystemEvent) => void,
  onError: (err: Error) => void,
): FSWatcher {
  let chain: Promise<void> = Promise.resolve();
  const watcher = watch(dir.host, { recursive: o.recursive, persistent: false }, (kind, name) => {
    if (!name) return;
    const rel = String(name);
    const at: EntryLocation = {
      root: dir.root,
      host: path.join(dir.host, rel),
      inside: path.posix.join(dir.inside, rel),
    };
    chain = chain.then(async () => {
      const exists = await access(at.host).then(
        () => true,
        () => false,
      );
      const type = kind === 'change' ? EventType.WRITE : exists ? EventType.CREATE : EventType.REMOVE;
      let entry;
      if (o.includeEntry && exists) entry = await entryInfo(at, await o.names()).catch(() => undefined);
      onEvent(create(FilesystemEventSchema, { name: rel, type, entry }));
    });
  });
  watcher.on('error', onError);
  return watcher;
}

interface Polled {
  watcher: FSWatcher;
  events: FilesystemEvent[];
  error?: Error;
}

/** The non-streaming watchers of one sandbox (CreateWatcher / GetWatcherEvents / RemoveWatcher). */
export class WatcherTable {
  private watchers = new Map<string, Polled>();

  add(dir: EntryLocation, o: WatchOptions): string {
    const id = 'w' + randomBytes(8).toString('hex');
    const events: FilesystemEvent[] = [];
    const polled: Polled = {
      events,
      watcher: watchDirectory(
        dir,
        o,
        (e) => events.push(e),
        (err) => (polled.error = err),
      ),
    };
    this.watchers.set(id, polled);
    return id;
  }

  /** Events since the last call; undefined for an unknown id. Throws the watcher's error, if any. */
  take(id: string): FilesystemEvent[] | undefined {
    const w = this.watchers.get(id);
    if (!w) return undefined;
    if (w.error) throw w.error;
    return w.events.splice(0);
  }

  remove(id: string): boolean {
    const w = this.watchers.get(id);
    if (!w) return false;
    w.watcher.close();
    this.watchers.delete(id);
    return true;
  }

  closeAll(): void {
    for (const id of [...this.watchers.keys()]) this.remove(id);
  }
}
