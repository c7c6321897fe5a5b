import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Storage, type Bucket } from '@google-cloud/storage';
import type { StorageConfig } from '../config/schema.js';
import { mapLimit, raceAbort } from './abort.js';
import { storageCall, type ErrorScope } from './errors.js';
import type { GetOptions, ObjectInfo, OpOptions, PutOptions, StorageClient, StorageClientOptions } from './types.js';

/** How long an aborted download waits for its response before it is destroyed regardless. */
const ABORT_WAIT_MS = 5_000;
const CHUNK_QUANTUM = 256 * 1024; // resumable chunk sizes must be multiples of 256 KiB

/**
 * GCS through @google-cloud/storage (JSON API). Credentials: Application Default Credentials
 * (GOOGLE_APPLICATION_CREDENTIALS, workload identity, gcloud). A custom `endpoint` is used without
 * authentication, as the library does for emulators. Our own checksums replace the library's
 * CRC32C/MD5 validation so that every provider is verified the same way.
 */
export class GcsStorage implements StorageClient {
  readonly provider = 'gcs' as const;
  readonly bucket: string;
  readonly endpoint: URL;
  private readonly gcs: Storage;
  private readonly b: Bucket;

  constructor(
    cfg: StorageConfig,
    private readonly scope: ErrorScope,
    opts: StorageClientOptions = {},
  ) {
    this.bucket = cfg.bucket;
    const attempts = opts.maxAttempts ?? 3;
    this.gcs = new Storage({
      projectId: cfg.project_id,
      apiEndpoint: cfg.endpoint,
      timeout: opts.requestTimeoutMs ?? 60_000,
      retryOptions: { autoRetry: attempts > 1, maxRetries: Math.max(0, attempts - 1) },
    });
    this.b = this.gcs.bucket(cfg.bucket);
    const u = new URL(cfg.endpoint ?? 'https://storage.googleapis.com');
    u.username = '';
    u.password = '';
    this.endpoint = u;
  }

  private call<T>(op: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return storageCall(this.scope, op, signal, () => raceAbort(fn(), signal));
  }

  checkBucket(opts: OpOptions = {}): Promise<void> {
    return this.call('check bucket', opts.signal, async () => {
      try {
        await this.b.getMetadata();
      } catch (err) {
        if ((err as { code?: number }).code === 404) {
          throw Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' });
        }
        throw err;
      }
    });
  }

  put(key: string, body: Buffer | Readable, opts: PutOptions): Promise<{ multipart: boolean }> {
    const multipart = opts.size >= (opts.multipartThreshold ?? Infinity);
    const part = opts.partSize ?? 16 * 1024 * 1024;
    const ws = this.b.file(key).createWriteStream({
      resumable: multipart,
      chunkSize: multipart ? Math.max(CHUNK_QUANTUM, Math.round(part / CHUNK_QUANTUM) * CHUNK_QUANTUM) : undefined,
      validation: false,
      metadata: { contentType: 'application/octet-stream' },
    });
    const src = Buffer.isBuffer(body) ? Readable.from([body]) : body;
    return this.call(`put "${key}"`, opts.signal, async () => {
      // pipeline destroys both streams on abort, which cancels the upload request
      await pipeline(src, ws, { signal: opts.signal });
      return { multipart };
    });
  }

  get(key: string, opts: GetOptions = {}): Promise<Readable> {
    return this.call(`get "${key}"`, opts.signal, async () => {
      opts.signal?.throwIfAborted();
      const stream = this.b.file(key).createReadStream({
        validation: false,
        decompress: false,
        ...(opts.range ? { start: opts.range.start, end: opts.range.end } : {}),
      });
      // Destroyed before its response arrives, the library then pipes the response into a destroyed
      // stream and throws where nothing can catch it: an abort then waits for the response (or
      // gives up on it after a while) before destroying.
      let responded = false;
      stream.once('response', () => (responded = true));
      const onAbort = () => {
        const reason = opts.signal?.reason;
        if (responded) return void stream.destroy(reason);
        const giveUp = setTimeout(() => stream.destroy(reason), ABORT_WAIT_MS).unref();
        stream.once('response', () => {
          clearTimeout(giveUp);
          setImmediate(() => stream.destroy(reason));
        });
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      stream.once('close', () => opts.signal?.removeEventListener('abort', onAbort));
      // Not left waiting for a response that the abort above no longer cuts short.
      let cancel: (() => void) | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          stream.once('response', (res: { statusCode?: number }) => {
            if ((res.statusCode ?? 200) < 400) resolve(); // errors arrive as 'error' right after
          });
          stream.once('error', reject);
          cancel = () => reject(opts.signal?.reason);
          opts.signal?.addEventListener('abort', cancel, { once: true });
          stream.read(0); // the library sends the request on the first read
        });
      } finally {
        if (cancel) opts.signal?.removeEventListener('abort', cancel);
      }
      return stream;
    });
  }

  head(key: string, opts: OpOptions = {}): Promise<ObjectInfo> {
    return this.call(`head "${key}"`, opts.signal, async () => {
      const [m] = await this.b.file(key).getMetadata();
      return {
        key,
        size: Number(m.size ?? 0),
        md5: m.md5Hash ? Buffer.from(m.md5Hash, 'base64').toString('hex') : undefined,
      };
    });
  }

  list(prefix: string, opts: OpOptions = {}): Promise<ObjectInfo[]> {
    return this.call(`list "${prefix}"`, opts.signal, async () => {
      const [files] = await this.b.getFiles({ prefix, autoPaginate: true });
      return files.map((f) => ({ key: f.name, size: Number(f.metadata.size ?? 0) }));
    });
  }

  delete(key: string, opts: OpOptions = {}): Promise<void> {
    return this.call(`delete "${key}"`, opts.signal, async () => {
      await this.b.file(key).delete();
    });
  }

  async deletePrefix(prefix: string, opts: OpOptions = {}): Promise<number> {
    const objects = await this.list(prefix, opts);
    await mapLimit(objects, 8, (o) =>
      this.call(`delete "${o.key}"`, opts.signal, async () => {
        await this.b.file(o.key).delete({ ignoreNotFound: true });
      }),
    );
    return objects.length;
  }

  async close(): Promise<void> {}
}
