import type { TargetConfig } from '../config/schema.js';
import { ProbeError } from '../probe/reasons.js';
import type { ErrorScope } from './errors.js';
import type { StorageClient, StorageClientOptions } from './types.js';

export type {
  StorageClient,
  StorageClientOptions,
  StorageProvider,
  ObjectInfo,
  PutOptions,
  GetOptions,
  OpOptions,
} from './types.js';
export { classifyStorageError, redact, toProbeError } from './errors.js';

/** The object-storage client of a target, by its `storage.kind`. Errors name the target and bucket. */
export async function createStorageClient(
  target: TargetConfig,
  opts: StorageClientOptions = {},
): Promise<StorageClient> {
  const cfg = target.storage;
  if (!cfg) throw new ProbeError('internal', `target "${target.name}" has no storage configured`);
  const scope: ErrorScope = {
    target: target.name,
    provider: cfg.kind,
    bucket: cfg.bucket,
    secrets: [cfg.secret_access_key, cfg.access_key_id, cfg.account_key, cfg.connection_string],
  };
  // Each SDK costs 1-2 s and tens of MB to load: only the one a target uses is imported.
  switch (cfg.kind) {
    case 's3': {
      const { S3Storage } = await import('./s3.js');
      return new S3Storage(cfg, scope, opts);
    }
    case 'gcs': {
      const { GcsStorage } = await import('./gcs.js');
      return new GcsStorage(cfg, scope, opts);
    }
    case 'azure': {
      const { AzureStorage } = await import('./azure.js');
      return AzureStorage.create(cfg, scope, opts);
    }
  }
}
