import type { Readable } from 'node:stream';

export type StorageProvider = 's3' | 'gcs' | 'azure';

export interface ObjectInfo {
  key: string;
  size: number;
  /** MD5 of the whole object in hex, when the provider states it (S3 single-part ETag, GCS md5Hash, Azure Content-MD5). */
  md5?: string;
}

export interface OpOptions {
  signal?: AbortSignal;
}

export interface PutOptions extends OpOptions {
  size: number;
  /** Objects of at least this size go up in parts (S3 multipart, Azure blocks, GCS resumable chunks). */
  multipartThreshold?: number;
  partSize?: number;
  /** Parts in flight at once (S3, Azure; GCS resumable uploads are sequential). */
  partConcurrency?: number;
}

export interface GetOptions extends OpOptions {
  /** Inclusive byte range. */
  range?: { start: number; end: number };
}

/** One small interface over S3, GCS and Azure Blob so that the storage probes are provider-agnostic. */
export interface StorageClient {
  readonly provider: StorageProvider;
  /** Bucket, or container for Azure. */
  readonly bucket: string;
  /** Where requests go (for TCP connect timing); no credentials in it. */
  readonly endpoint: URL;
  /** Fails with auth / storage_error when the credentials or the bucket are wrong. */
  checkBucket(opts?: OpOptions): Promise<void>;
  put(key: string, body: Buffer | Readable, opts: PutOptions): Promise<{ multipart: boolean }>;
  /** Resolves when the response headers have arrived (time to first byte is up to the caller). */
  get(key: string, opts?: GetOptions): Promise<Readable>;
  head(key: string, opts?: OpOptions): Promise<ObjectInfo>;
  list(prefix: string, opts?: OpOptions): Promise<ObjectInfo[]>;
  delete(key: string, opts?: OpOptions): Promise<void>;
  /** Deletes every object under the prefix (and unfinished multipart uploads where the API allows); returns the count. */
  deletePrefix(prefix: string, opts?: OpOptions): Promise<number>;
  close(): Promise<void>;
}

export interface StorageClientOptions {
  /** Per-request timeout (S3 socket / Azure try / GCS request). */
  requestTimeoutMs?: number;
  /** Attempts per request including the first (SDK retries). */
  maxAttempts?: number;
}
