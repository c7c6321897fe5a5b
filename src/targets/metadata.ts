import type { HostConfig } from '../config/schema.js';

/** What a cloud's instance metadata service says about the machine; absent = it did not say. */
export interface MetadataFacts {
  cloud_provider: string;
  cloud_region?: string;
  instance_type?: string;
}

type MetadataConfig = NonNullable<HostConfig['metadata']>;

/** Link-local addresses the clouds serve metadata on; tests and proxies set `url` instead. */
export const DEFAULT_METADATA_URL: Record<MetadataConfig['kind'], string> = {
  aws: 'http://169.254.169.254',
  gcp: 'http://metadata.google.internal',
  azure: 'http://169.254.169.254',
};

async function text(url: string, init: RequestInit, signal: AbortSignal): Promise<string> {
  const res = await fetch(url, { ...init, signal, redirect: 'error' });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.text()).trim();
}

/** The last path segment: GCP answers `projects/1/zones/us-central1-a`. */
const lastSegment = (s: string) => s.slice(s.lastIndexOf('/') + 1);

async function aws(base: string, signal: AbortSignal): Promise<MetadataFacts> {
  // IMDSv2: a session token first, then the reads with it.
  const token = await text(
    `${base}/latest/api/token`,
    { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' } },
    signal,
  );
  const get = (path: string) =>
    text(`${base}/latest/meta-data/${path}`, { headers: { 'X-aws-ec2-metadata-token': token } }, signal);
  const [instance_type, cloud_region] = await Promise.all([get('instance-type'), get('placement/region')]);
  return { cloud_provider: 'aws', cloud_region, instance_type };
}

async function gcp(base: string, signal: AbortSignal): Promise<MetadataFacts> {
  const get = (path: string) =>
    text(`${base}/computeMetadata/v1/instance/${path}`, { headers: { 'Metadata-Flavor': 'Google' } }, signal);
  const [machineType, zone] = await Promise.all([get('machine-type'), get('zone')]);
  // A zone is its region plus a letter: us-central1-a → us-central1.
  return {
    cloud_provider: 'gcp',
    cloud_region: lastSegment(zone).replace(/-[a-z]$/, ''),
    instance_type: lastSegment(machineType),
  };
}

async function azure(base: string, signal: AbortSignal): Promise<MetadataFacts> {
  const body = await text(
    `${base}/metadata/instance/compute?api-version=2021-02-01`,
    { headers: { Metadata: 'true' } },
    signal,
  );
  const c = JSON.parse(body) as { location?: unknown; vmSize?: unknown };
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return { cloud_provider: 'azure', cloud_region: str(c.location), instance_type: str(c.vmSize) };
}

const READERS = { aws, gcp, azure } as const;

/** Asks the configured metadata service; throws when it does not answer in time or answers badly. */
export async function readMetadata(m: MetadataConfig): Promise<MetadataFacts> {
  const base = (m.url ?? DEFAULT_METADATA_URL[m.kind]).replace(/\/+$/, '');
  return READERS[m.kind](base, AbortSignal.timeout(m.timeout));
}
