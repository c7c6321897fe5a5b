import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { unpackTo } from '../../../src/local/template/archive.js';
import { extractImage, packImage } from '../../../src/local/template/image.js';
import { DirStore, getJson, openStore, putJson, StoreMissError } from '../../../src/local/template/store.js';
import { removeDir, tempDir } from './helpers.js';

/** path → what a byte-for-byte comparison needs: type, mode, content or link target. */
async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const full = join(dir, name);
      const rel = relative(root, full);
      const st = await lstat(full);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.set(rel, `link ${await readlink(full)}`);
      else if (st.isDirectory()) {
        out.set(rel, `dir ${mode} ${st.uid}:${st.gid}`);
        await walk(full);
      } else out.set(rel, `file ${mode} ${st.uid}:${st.gid} ${(await readFile(full)).toString('base64')}`);
    }
  };
  await walk(root);
  return out;
}

describe('template store', () => {
  let dir: string;
  let src: string;
  beforeAll(async () => {
    dir = await tempDir('store');
    src = join(dir, 'src');
    await mkdir(join(src, 'usr', 'bin'), { recursive: true });
    await mkdir(join(src, 'empty'), { recursive: true });
    await mkdir(join(src, 'dev'), { recursive: true });
    await mkdir(join(src, 'tmp'), { recursive: true });
    await chmod(join(src, 'tmp'), 0o1777);
    await writeFile(join(src, 'usr', 'bin', 'tool'), '#!/bin/sh\necho tool\n', { mode: 0o755 });
    await writeFile(join(src, 'secret'), 'only owner', { mode: 0o600 });
    await writeFile(join(src, 'blob.bin'), randomBytes(3 * 1024 * 1024));
    await writeFile(join(src, 'ünïcode name.txt'), 'utf-8 name');
    await writeFile(join(src, 'dev', 'node'), 'excluded');
    await writeFile(join(src, 'tmp', 'scratch'), 'excluded');
    await symlink('usr/bin/tool', join(src, 'tool-link'));
  });
  afterAll(async () => removeDir(dir));

  it('round-trips a directory through image → store → download → extract byte for byte, minus scratch contents', async () => {
    const store = new DirStore(join(dir, 'store'));
    const image = join(dir, 'rt.squashfs');
    await packImage(src, image);
    const put = await store.put('rt.squashfs', createReadStream(image));
    expect(put.bytes).toBe(await store.size('rt.squashfs'));
    expect(put.sha256).toMatch(/^[0-9a-f]{64}$/);

    const copy = join(dir, 'copy.squashfs');
    expect(await store.download('rt.squashfs', copy)).toBe(put.bytes);
    await expect(store.download('nope.squashfs', join(dir, 'nope'))).rejects.toBeInstanceOf(StoreMissError);
    const out = join(dir, 'out');
    await extractImage(copy, out);
    const snap = await snapshot(out);
    const want = await snapshot(src);
    // Device nodes and scratch contents are left out; their directories stay (mount points).
    expect(snap.has('dev')).toBe(true);
    expect(snap.has('dev/node')).toBe(false);
    expect(snap.get('tmp')).toMatch(/^dir 1777/);
    expect(snap.has('tmp/scratch')).toBe(false);
    want.delete('dev/node');
    want.delete('tmp/scratch');
    expect(snap).toEqual(want);
  });

  it('still unpacks the tar.zst archives of stores written before images', async () => {
    const archive = join(dir, 'old.tar.zst');
    execFileSync('tar', ['--create', `--file=${archive}`, '--zstd', '--numeric-owner', '--xattrs', '-C', src, '.']);
    const out = join(dir, 'out-old');
    await unpackTo(archive, out);
    expect(await snapshot(out)).toEqual(await snapshot(src));
  });

  it('reports a missing object, keeps nothing of a failed put, and rejects unsafe names', async () => {
    const store = new DirStore(join(dir, 'store2'));
    await expect(store.get('nope.tar.zst')).rejects.toBeInstanceOf(StoreMissError);
    expect(await store.has('nope.tar.zst')).toBe(false);

    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024));
        this.destroy(new Error('network dropped'));
      },
    });
    await expect(store.put('partial.tar.zst', failing)).rejects.toThrow(/network dropped/);
    expect(await store.has('partial.tar.zst')).toBe(false);
    expect(await readdir(join(dir, 'store2'))).toEqual([]);

    await expect(store.has('../escape')).rejects.toThrow(/invalid store object name/);
    await expect(store.put('a/b', Readable.from([]))).rejects.toThrow(/invalid store object name/);
  });

  it('stores JSON manifests and opens stores from config values', async () => {
    const store = openStore(join(dir, 'store3'));
    expect(store).toBeInstanceOf(DirStore);
    await putJson(store, 'm.json', { a: 1 });
    expect(await getJson(store, 'm.json')).toEqual({ a: 1 });
    expect(await getJson(store, 'missing.json')).toBeUndefined();
    expect(() => openStore('s3://bucket/prefix')).toThrow(/not implemented/);
  });
});
