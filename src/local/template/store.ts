import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { defaultStoreDir } from './paths.js';

/**
 * Where built templates live between builds and nodes: named objects (the `<key>.squashfs`
 * image and its `<key>.json` manifest). A directory today; an S3-compatible bucket fits the
 * same four calls (HeadObject, GetObject stream, multipart PutObject, DeleteObject).
 */
export interface TemplateStore {
  /** Human-readable location, for logs and reports. */
  readonly location: string;
  has(name: string): Promise<boolean>;
  /** Size in bytes, or undefined when absent. */
  size(name: string): Promise<number | undefined>;
  /** The object's bytes as a stream; rejects with StoreMissError when absent. */
  get(name: string, opts?: { signal?: AbortSignal }): Promise<Readable>;
  /**
   * Copies the object to a local file (a template fetch); resolves with its size. A bucket would
   * do this with ranged GETs in parallel; a directory store copies in the kernel.
   */
  download(name: string, dest: string, opts?: { signal?: AbortSignal }): Promise<number>;
  /** Writes the object atomically: readers see the old object or the whole new one, never a part. */
  put(name: string, body: Readable, opts?: { signal?: AbortSignal }): Promise<{ bytes: number; sha256: string }>;
  delete(name: string): Promise<void>;
  /** Names of all objects (no order). */
  list(): Promise<string[]>;
}

export class StoreMissError extends Error {
  constructor(
    readonly objectName: string,
    location: string,
  ) {
    super(`${objectName} is not in the template store ${location}`);
    this.name = 'StoreMissError';
  }
}

const OBJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkName(name: string): void {
  if (!OBJECT_NAME.test(name)) throw new Error(`invalid store object name: ${JSON.stringify(name)}`);
}

/** Counts and hashes bytes as they pass. */
export class Digest extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    cb(null, chunk);
  }
  hex(): string {
    return this.hash.digest('hex');
  }
}

export class DirStore implements TemplateStore {
  readonly location: string;

  constructor(readonly dir: string) {
    this.location = resolve(dir);
  }

  private path(name: string): string {
    checkName(name);
    return join(this.location, name);
  }

  async has(name: string): Promise<boolean> {
    return (await this.size(name)) !== undefined;
  }

  async size(name: string): Promise<number | undefined> {
    const path = this.path(name);
    try {
      const st = await stat(path);
      return st.isFile() ? st.size : undefined;
    } catch {
      return undefined;
    }
  }

  async get(name: string): Promise<Readable> {
    const path = this.path(name);
    if (!(await this.has(name))) throw new StoreMissError(name, this.location);
    return createReadStream(path);
  }

  async download(name: string, dest: string): Promise<number> {
    const path = this.path(name);
    try {
      // copy_file_range: no bytes pass through this process.
      await copyFile(path, dest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !(await this.has(name)))
        throw new StoreMissError(name, this.location);
      throw err;
    }
    return (await stat(dest)).size;
  }

  async put(
    name: string,
    body: Readable,
    opts: { signal?: AbortSignal } = {},
  ): Promise<{ bytes: number; sha256: string }> {
    const path = this.path(name);
    await mkdir(this.location, { recursive: true });
    const tmp = join(this.location, `.${name}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    const digest = new Digest();
    try {
      await pipeline(body, digest, createWriteStream(tmp, { flush: true }), { signal: opts.signal });
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return { bytes: digest.bytes, sha256: digest.hex() };
  }

  async delete(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.location)).filter((n) => OBJECT_NAME.test(n));
    } catch {
      return [];
    }
  }
}

/**
 * A store from a config value: undefined → the default directory, a path → that directory.
 * `s3://bucket/prefix` is reserved for an S3-compatible store (not built yet).
 */
export function openStore(spec?: string | TemplateStore): TemplateStore {
  if (spec !== undefined && typeof spec !== 'string') return spec;
  if (spec === undefined || spec === '') return new DirStore(defaultStoreDir());
  if (/^s3:\/\//.test(spec)) throw new Error(`S3-compatible template stores are not implemented yet: ${spec}`);
  return new DirStore(spec.startsWith('file://') ? new URL(spec).pathname : spec);
}

export async function getJson<T>(store: TemplateStore, name: string): Promise<T | undefined> {
  if (!(await store.has(name))) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(name)) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
}

export async function putJson(store: TemplateStore, name: string, value: unknown): Promise<void> {
  await store.put(name, Readable.from([Buffer.from(`${JSON.stringify(value, null, 2)}\n`)]));
}
