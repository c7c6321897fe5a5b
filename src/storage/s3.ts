import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { StorageConfig } from '../config/schema.js';
import { storageCall, toProbeError, type ErrorScope } from './errors.js';
import type { GetOptions, ObjectInfo, OpOptions, PutOptions, StorageClient, StorageClientOptions } from './types.js';

const MIN_PART = 5 * 1024 * 1024; // S3's smallest part (except the last)

/** S3 through the AWS SDK v3: AWS itself or any S3-compatible endpoint (path style if asked). */
export class S3Storage implements StorageClient {
  readonly provider = 's3' as const;
  readonly bucket: string;
  readonly endpoint: URL;
  private readonly client: S3Client;

  constructor(
    cfg: StorageConfig,
    private readonly scope: ErrorScope,
    opts: StorageClientOptions = {},
  ) {
    this.bucket = cfg.bucket;
    const region = cfg.region ?? 'us-east-1';
    const config: S3ClientConfig = {
      region,
      forcePathStyle: cfg.force_path_style,
      maxAttempts: opts.maxAttempts ?? 3,
      requestHandler: {
        requestTimeout: opts.requestTimeoutMs ?? 60_000,
        connectionTimeout: opts.requestTimeoutMs ?? 60_000,
        throwOnRequestTimeout: true, // else the SDK only logs a warning and keeps waiting
      },
    };
    if (cfg.endpoint) {
      config.endpoint = cfg.endpoint;
      // Third-party S3 servers often reject the SDK's default CRC trailers on uploads.
      config.requestChecksumCalculation = 'WHEN_REQUIRED';
      config.responseChecksumValidation = 'WHEN_REQUIRED';
    }
    if (cfg.access_key_id && cfg.secret_access_key) {
      config.credentials = { accessKeyId: cfg.access_key_id, secretAccessKey: cfg.secret_access_key };
    }
    this.client = new S3Client(config);
    this.endpoint = endpointUrl(cfg, region);
  }

  private call<T>(op: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return storageCall(this.scope, op, signal, fn);
  }

  checkBucket(opts: OpOptions = {}): Promise<void> {
    return this.call('check bucket', opts.signal, async () => {
      try {
        await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: opts.signal });
      } catch (err) {
        // HEAD answers have no body, so the SDK only knows "NotFound": name it.
        if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
          throw Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' });
        }
        throw err;
      }
    });
  }

  put(key: string, body: Buffer | Readable, opts: PutOptions): Promise<{ multipart: boolean }> {
    const multipart = opts.size >= (opts.multipartThreshold ?? Infinity);
    return this.call(`put "${key}"`, opts.signal, async () => {
      if (!multipart) {
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: opts.size }),
          { abortSignal: opts.signal },
        );
        return { multipart };
      }
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: body },
        partSize: Math.max(MIN_PART, opts.partSize ?? 16 * 1024 * 1024),
        queueSize: opts.partConcurrency ?? 4,
        leavePartsOnError: false, // abort the multipart upload on failure: no orphaned parts
      });
      const onAbort = () => void upload.abort().catch(() => {});
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await upload.done();
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
      }
      return { multipart };
    });
  }

  get(key: string, opts: GetOptions = {}): Promise<Readable> {
    return this.call(`get "${key}"`, opts.signal, async () => {
      const r = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: opts.range ? `bytes=${opts.range.start}-${opts.range.end}` : undefined,
        }),
        { abortSignal: opts.signal },
      );
      return r.Body as Readable;
    });
  }

  head(key: string, opts: OpOptions = {}): Promise<ObjectInfo> {
    return this.call(`head "${key}"`, opts.signal, async () => {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: opts.signal,
      });
      // SSE-KMS and SSE-C ETags are not the MD5 of the content.
      const encrypted = r.SSECustomerAlgorithm !== undefined || (r.ServerSideEncryption ?? '').startsWith('aws:kms');
      return { key, size: r.ContentLength ?? 0, md5: encrypted ? undefined : md5FromEtag(r.ETag) };
    });
  }

  list(prefix: string, opts: OpOptions = {}): Promise<ObjectInfo[]> {
    return this.call(`list "${prefix}"`, opts.signal, async () => {
      const out: ObjectInfo[] = [];
      let token: string | undefined;
      do {
        const r = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
          { abortSignal: opts.signal },
        );
        for (const o of r.Contents ?? []) out.push({ key: o.Key!, size: o.Size ?? 0 });
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return out;
    });
  }

  delete(key: string, opts: OpOptions = {}): Promise<void> {
    return this.call(`delete "${key}"`, opts.signal, async () => {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: opts.signal });
    });
  }

  async deletePrefix(prefix: string, opts: OpOptions = {}): Promise<number> {
    await this.abortUploads(prefix, opts);
    const objects = await this.list(prefix, opts);
    return this.call(`delete "${prefix}*"`, opts.signal, async () => {
      for (let i = 0; i < objects.length; i += 1000) {
        const batch = objects.slice(i, i + 1000);
        const r = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((o) => ({ Key: o.key })), Quiet: true },
          }),
          { abortSignal: opts.signal },
        );
        if (r.Errors?.length) {
          const e = r.Errors[0];
          throw Object.assign(new Error(`${r.Errors.length} objects not deleted, first "${e.Key}"`), { name: e.Code });
        }
      }
      return objects.length;
    });
  }

  /** Unfinished multipart uploads are invisible to list but billed; servers without the API are skipped. */
  private async abortUploads(prefix: string, opts: OpOptions): Promise<void> {
    let uploads;
    try {
      uploads = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix }), {
        abortSignal: opts.signal,
      });
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 501 || (err as Error).name === 'NotImplemented') return;
      throw toProbeError(this.scope, `list uploads "${prefix}"`, err, opts.signal);
    }
    for (const u of uploads.Uploads ?? []) {
      await this.call(`abort upload "${u.Key}"`, opts.signal, () =>
        this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }), {
          abortSignal: opts.signal,
        }),
      );
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/** A single-part ETag is the MD5 of the object; multipart ("…-N") and SSE-KMS ones are not. */
function md5FromEtag(etag: string | undefined): string | undefined {
  const e = etag?.replace(/"/g, '').toLowerCase();
  return e && /^[0-9a-f]{32}$/.test(e) ? e : undefined;
}

function endpointUrl(cfg: StorageConfig, region: string): URL {
  const u = new URL(cfg.endpoint ?? `https://s3.${region}.amazonaws.com`);
  if (!cfg.endpoint && !cfg.force_path_style) u.hostname = `${cfg.bucket}.${u.hostname}`;
  u.username = '';
  u.password = '';
  return u;
}
