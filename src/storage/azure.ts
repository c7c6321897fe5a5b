import { Readable } from 'node:stream';
import { BlobServiceClient, StorageSharedKeyCredential, newPipeline, type ContainerClient } from '@azure/storage-blob';
import type { StorageConfig } from '../config/schema.js';
import { mapLimit } from './abort.js';
import { storageCall, toProbeError, type ErrorScope } from './errors.js';
import type { GetOptions, ObjectInfo, OpOptions, PutOptions, StorageClient, StorageClientOptions } from './types.js';

/**
 * Azure Blob through @azure/storage-blob. Credentials: a connection string, or account name + key,
 * or (account name only) DefaultAzureCredential from @azure/identity.
 */
export class AzureStorage implements StorageClient {
  readonly provider = 'azure' as const;
  readonly bucket: string;
  readonly endpoint: URL;
  private readonly container: ContainerClient;
  private readonly scope: ErrorScope;

  private constructor(cfg: StorageConfig, scope: ErrorScope, service: BlobServiceClient) {
    this.bucket = cfg.bucket;
    this.scope = scope;
    this.container = service.getContainerClient(cfg.bucket);
    const u = new URL(service.url);
    u.search = ''; // a SAS token lives in the query
    u.username = '';
    u.password = '';
    this.endpoint = u;
  }

  static async create(cfg: StorageConfig, scope: ErrorScope, opts: StorageClientOptions = {}): Promise<AzureStorage> {
    let url: string;
    let credential: Parameters<typeof newPipeline>[0];
    try {
      if (cfg.connection_string) {
        // Parsed by the SDK; we keep its URL (with a SAS, if any) and credential, and build our own pipeline.
        const parsed = BlobServiceClient.fromConnectionString(cfg.connection_string);
        url = parsed.url;
        credential = parsed.credential;
      } else {
        if (!cfg.account_name && !cfg.endpoint) {
          throw new Error('set connection_string, or account_name (+ account_key), or endpoint');
        }
        url = cfg.endpoint ?? `https://${cfg.account_name}.blob.core.windows.net`;
        if (cfg.account_name && cfg.account_key) {
          credential = new StorageSharedKeyCredential(cfg.account_name, cfg.account_key);
        } else {
          // Loaded only when needed: the identity stack is large.
          const { DefaultAzureCredential } = await import('@azure/identity');
          credential = new DefaultAzureCredential();
        }
      }
    } catch (err) {
      // e.g. a malformed connection string or key: the credentials are unusable
      const e = Object.assign(new Error((err as Error).message), { name: 'AuthenticationFailed' });
      throw toProbeError(scope, 'configure client', e);
    }
    const pipeline = newPipeline(credential, { retryOptions: { maxTries: opts.maxAttempts ?? 3 } });
    // The SDK's tryTimeoutInMs is only a server-side hint; this bounds each request on the client
    // (until its response headers arrive), so a silent endpoint fails instead of hanging.
    const timeout = opts.requestTimeoutMs ?? 60_000;
    pipeline.factories.unshift({
      create: (next) => ({
        sendRequest: (req) => {
          req.timeout = timeout;
          return next.sendRequest(req);
        },
      }),
    });
    return new AzureStorage(cfg, scope, new BlobServiceClient(url, pipeline));
  }

  private call<T>(op: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return storageCall(this.scope, op, signal, fn);
  }

  checkBucket(opts: OpOptions = {}): Promise<void> {
    return this.call('check container', opts.signal, async () => {
      await this.container.getProperties({ abortSignal: opts.signal });
    });
  }

  put(key: string, body: Buffer | Readable, opts: PutOptions): Promise<{ multipart: boolean }> {
    const multipart = opts.size >= (opts.multipartThreshold ?? Infinity);
    const blob = this.container.getBlockBlobClient(key);
    return this.call(`put "${key}"`, opts.signal, async () => {
      if (!multipart) {
        await blob.upload(Buffer.isBuffer(body) ? body : () => body, opts.size, { abortSignal: opts.signal });
      } else {
        // Staged blocks + commit: Azure's multipart upload.
        const stream = Buffer.isBuffer(body) ? Readable.from([body]) : body;
        await blob.uploadStream(stream, opts.partSize ?? 16 * 1024 * 1024, opts.partConcurrency ?? 4, {
          abortSignal: opts.signal,
        });
      }
      return { multipart };
    });
  }

  get(key: string, opts: GetOptions = {}): Promise<Readable> {
    return this.call(`get "${key}"`, opts.signal, async () => {
      const r = opts.range
        ? await this.container
            .getBlobClient(key)
            .download(opts.range.start, opts.range.end - opts.range.start + 1, { abortSignal: opts.signal })
        : await this.container.getBlobClient(key).download(0, undefined, { abortSignal: opts.signal });
      return r.readableStreamBody as Readable;
    });
  }

  head(key: string, opts: OpOptions = {}): Promise<ObjectInfo> {
    return this.call(`head "${key}"`, opts.signal, async () => {
      const p = await this.container.getBlobClient(key).getProperties({ abortSignal: opts.signal });
      return {
        key,
        size: p.contentLength ?? 0,
        md5: p.contentMD5 ? Buffer.from(p.contentMD5).toString('hex') : undefined,
      };
    });
  }

  list(prefix: string, opts: OpOptions & { uncommitted?: boolean } = {}): Promise<ObjectInfo[]> {
    return this.call(`list "${prefix}"`, opts.signal, async () => {
      const out: ObjectInfo[] = [];
      const it = this.container.listBlobsFlat({
        prefix,
        includeUncommitedBlobs: opts.uncommitted,
        abortSignal: opts.signal,
      });
      for await (const b of it) out.push({ key: b.name, size: b.properties.contentLength ?? 0 });
      return out;
    });
  }

  delete(key: string, opts: OpOptions = {}): Promise<void> {
    return this.call(`delete "${key}"`, opts.signal, async () => {
      await this.container.deleteBlob(key, { abortSignal: opts.signal });
    });
  }

  async deletePrefix(prefix: string, opts: OpOptions = {}): Promise<number> {
    // Uncommitted blocks of an interrupted upload show up only with includeUncommitedBlobs.
    const blobs = await this.list(prefix, { ...opts, uncommitted: true });
    await mapLimit(blobs, 8, (b) =>
      this.call(`delete "${b.key}"`, opts.signal, async () => {
        await this.container.deleteBlob(b.key, { abortSignal: opts.signal }).catch((err: { statusCode?: number }) => {
          if (err.statusCode !== 404) throw err; // already gone
        });
      }),
    );
    return blobs.length;
  }

  async close(): Promise<void> {}
}
