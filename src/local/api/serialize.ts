import { ENVD_VERSION } from '../envd/types.js';
import type { SandboxRecord, SnapshotRecord } from '../core/records.js';

/** JSON shapes of E2B's control-plane API, as the SDK reads them. */

const DISK_SIZE_MB = 10 * 1024;

export function sandboxCreated(r: SandboxRecord) {
  return {
    sandboxID: r.sandboxId,
    templateID: r.templateId,
    clientID: 'local',
    envdVersion: ENVD_VERSION,
    envdAccessToken: r.accessToken,
    trafficAccessToken: null,
    domain: null,
  };
}

export function sandboxListed(r: SandboxRecord) {
  return {
    sandboxID: r.sandboxId,
    templateID: r.templateId,
    clientID: 'local',
    startedAt: r.startedAt.toISOString(),
    endAt: r.endAt.toISOString(),
    cpuCount: r.cpuCount,
    memoryMB: r.memoryMb,
    diskSizeMB: DISK_SIZE_MB,
    metadata: r.metadata,
    state: r.state,
    envdVersion: ENVD_VERSION,
  };
}

export function sandboxDetail(r: SandboxRecord) {
  return { ...sandboxListed(r), envdAccessToken: r.accessToken, domain: null };
}

export function snapshotListed(s: SnapshotRecord) {
  return { snapshotID: s.snapshotId, names: s.names };
}

/** Validate the create body's optional string maps. */
export function stringMap(v: unknown, what: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${what} must be an object of strings`);
  for (const [k, val] of Object.entries(v))
    if (typeof val !== 'string') throw new TypeError(`${what}.${k} must be a string`);
  return v as Record<string, string>;
}
