import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageLatency } from '../../probes/storage/latency.js';
import { storageObjects } from '../../probes/storage/objects.js';
import { storageTemplateDownload } from '../../probes/storage/template-download.js';
import { patternBuffer } from '../../probes/storage/data.js';
import type { Probe } from '../../src/probe/types.js';
import {
  expectStorageFailure,
  gaugeValue,
  observationsOf,
  runProbe,
  storageTarget,
  type StorageInput,
} from './harness.js';
import { freePort } from '../helpers/processes.js';
import { silentServer, SlowProxy } from './servers.js';

export const BUCKET = 'e2b-templates';
export const PREFIX = 'e2b-bench/';
export const TEMPLATES: Record<string, Buffer> = {
  'build-1/rootfs.ext4': patternBuffer(3 * 1024 * 1024 + 123, 'rootfs'),
  'build-1/memfile': patternBuffer(700_000, 'mem'),
};

/** What a provider's test file supplies: a real (or, for GCS, stub) server and a way to look inside it. */
export interface StorageBed {
  provider: 's3' | 'gcs' | 'azure';
  /** Starts the server, creates BUCKET and uploads TEMPLATES (single-shot, so an MD5 is stored). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Storage config for the probe (endpoint = the server unless overridden). */
  storage(over?: Partial<StorageInput>): StorageInput;
  /** Port of the server, for the throttling proxy; `endpointFor` maps a proxy origin to an endpoint value. */
  port(): number;
  endpointFor(origin: string): string;
  /** Object keys under a prefix, read directly (not through the code under test). */
  keys(prefix: string): Promise<string[]>;
  /** Storage config with credentials the server rejects, and the secrets that must not leak. */
  badCredentials(): { over: Partial<StorageInput>; secrets: string[] };
  /** Secrets of the good config (must not leak either). */
  secrets: string[];
}

const SMALL = {
  sizes: ['64KiB', '6MiB'],
  multipart_threshold: '5MiB',
  part_size: '5MiB',
  parallel_objects: 4,
  parallel_size: '32KiB',
  list_objects: 12,
  sample_gap: '0s',
};

/** Each probe with small, fast options and no retries. */
const PROBES: [Probe, Record<string, unknown>][] = [
  [storageObjects as Probe, { ...SMALL, max_attempts: 1 }],
  [storageLatency as Probe, { sample_gap: '0s', max_attempts: 1 }],
  [storageTemplateDownload as Probe, { max_attempts: 1 }],
];

export function storageSuite(bed: StorageBed): void {
  const name = `test-${bed.provider}`;
  const target = (over: Partial<StorageInput> = {}, extra = {}) => storageTarget(name, bed.storage(over), extra);
  const provider = bed.provider;

  beforeAll(() => bed.start());
  afterAll(() => bed.stop());

  describe(`storage probes against ${provider}`, () => {
    it('storage.objects: single, multipart, parallel, list and head; verified; deletes its prefix', async () => {
      let listedDuringRun: string[] = [];
      const { ctx, error } = await runProbe(storageObjects, target(), SMALL, 2, (c) => {
        // after the list phase, before cleanup: the run's objects are there
        const phase = c.phase.bind(c);
        c.phase = async (n, fn, attrs) => {
          const r = await phase(n, fn, attrs);
          if (n === 'storage.list') listedDuringRun = await bed.keys(PREFIX);
          return r;
        };
      });
      expect(error).toBeUndefined();
      for (const size_class of ['64KiB', '6MiB']) {
        for (const operation of ['put', 'get', 'get_first_byte', 'delete']) {
          expect(
            observationsOf(ctx, { storage_provider: provider, operation, size_class }),
            `${operation} ${size_class}`,
          ).toHaveLength(2);
        }
        for (const operation of ['put', 'get']) {
          const labels = { storage_provider: provider, operation, mode: 'single', size_class };
          expect(gaugeValue(ctx, 'e2bbench_storage_throughput_bytes_per_second', labels)).toBeGreaterThan(0);
        }
      }
      expect((ctx.details.single_6MiB as { multipart: boolean }).multipart).toBe(true);
      expect((ctx.details.single_64KiB as { multipart: boolean }).multipart).toBe(false);
      for (const operation of ['put', 'get']) {
        const labels = { storage_provider: provider, operation, mode: 'aggregate', size_class: '32KiB' };
        expect(gaugeValue(ctx, 'e2bbench_storage_throughput_bytes_per_second', labels)).toBeGreaterThan(0);
      }
      expect(observationsOf(ctx, { operation: 'list', size_class: 'none' })).toHaveLength(10);
      expect(observationsOf(ctx, { operation: 'head', size_class: 'none' })).toHaveLength(10);
      const p50 = gaugeValue(ctx, 'e2bbench_storage_latency_seconds', { operation: 'list', statistic: 'p50' })!;
      expect(p50).toBeGreaterThan(0);
      expect(
        gaugeValue(ctx, 'e2bbench_storage_latency_seconds', { operation: 'list', statistic: 'p95' }),
      ).toBeGreaterThanOrEqual(p50);

      const prefix = (ctx.details.storage as { prefix: string }).prefix;
      expect(prefix).toMatch(/^e2b-bench\/test-run-[0-9a-f]{8}\/$/);
      expect(listedDuringRun.filter((k) => k.startsWith(`${prefix}list/`))).toHaveLength(12);
      expect(await bed.keys(PREFIX)).toEqual([]);
    });

    it('storage.objects streams objects above stream_above (the 1 GiB path) and verifies them', async () => {
      const { ctx, error } = await runProbe(
        storageObjects,
        target(),
        { ...SMALL, stream_above: '16KiB', parallel_objects: 0, list_objects: 0 },
        1,
      );
      expect(error).toBeUndefined();
      expect((ctx.details.single_64KiB as { verified: string }).verified).toBe('sha256');
      expect((ctx.details.single_6MiB as { multipart: boolean }).multipart).toBe(true);
      expect(observationsOf(ctx, { operation: 'get', size_class: '6MiB' })).toHaveLength(1);
      expect(await bed.keys(PREFIX)).toEqual([]);
    });

    it('storage.latency: connect, HEAD and first byte over >= 10 samples; deletes its object', async () => {
      const { ctx, error } = await runProbe(storageLatency, target(), { sample_gap: '0s', object_size: '2KiB' }, 3);
      expect(error).toBeUndefined();
      for (const operation of ['connect', 'head', 'get_first_byte']) {
        expect(observationsOf(ctx, { storage_provider: provider, operation }), operation).toHaveLength(10);
        const p50 = gaugeValue(ctx, 'e2bbench_storage_latency_seconds', { operation, statistic: 'p50' })!;
        expect(p50).toBeGreaterThan(0);
        expect(
          gaugeValue(ctx, 'e2bbench_storage_latency_seconds', { operation, statistic: 'p95' }),
        ).toBeGreaterThanOrEqual(p50);
      }
      expect(ctx.observations.find((o) => o.labels.operation === 'get_first_byte')!.labels.size_class).toBe('2KiB');
      expect(await bed.keys(PREFIX)).toEqual([]);
    });

    it('storage.latency can read an existing object instead of writing one', async () => {
      const before = await bed.keys('');
      const { ctx, error } = await runProbe(storageLatency, target(), { sample_gap: '0s', object: 'build-1/memfile' });
      expect(error).toBeUndefined();
      expect(ctx.observations.find((o) => o.labels.operation === 'get_first_byte')!.labels.size_class).toBe('700000B');
      expect(await bed.keys('')).toEqual(before);
    });

    it('storage.template_download: ranged GETs at two concurrencies, checksums, never writes', async () => {
      const before = await bed.keys('');
      const { ctx, error } = await runProbe(
        storageTemplateDownload,
        target({}, { pricing: { instance_type: 'x', hourly_usd: 1, nodes: 1 } }),
        { range_size: '256KiB', concurrency: [1, 4] },
      );
      expect(error).toBeUndefined();
      const total = Object.values(TEMPLATES).reduce((a, b) => a + b.length, 0);
      for (const concurrency of ['1', '4']) {
        const bps = gaugeValue(ctx, 'e2bbench_template_download_bytes_per_second', {
          storage_provider: provider,
          concurrency,
        })!;
        const spg = gaugeValue(ctx, 'e2bbench_template_download_seconds_per_gib', {
          storage_provider: provider,
          concurrency,
        })!;
        expect(bps).toBeGreaterThan(0);
        expect((spg * bps) / 2 ** 30).toBeCloseTo(1, 9); // both describe the same download
      }
      const ranges = Object.values(TEMPLATES).reduce((a, b) => a + Math.ceil(b.length / (256 * 1024)), 0);
      expect(observationsOf(ctx, { operation: 'ranged_get', size_class: '256KiB' })).toHaveLength(2 * ranges);
      const detail = ctx.details.template_download as {
        objects: { key: string; sha256: string; md5_checked: boolean }[];
      };
      expect(detail.objects).toHaveLength(2);
      for (const o of detail.objects) {
        expect(o.sha256).toBe(createHash('sha256').update(TEMPLATES[o.key]).digest('hex'));
        expect(o.md5_checked).toBe(true);
      }
      expect(gaugeValue(ctx, 'e2bbench_cost_template_bytes', {})).toBe(total);
      expect(await bed.keys('')).toEqual(before);
    });

    it('skips when the target has no storage or no template objects', async () => {
      const none = await runProbe(storageObjects, { name: 'no-storage' }, SMALL);
      expect(none.error).toMatchObject({ name: 'ProbeSkip', reason: 'not_configured' });
      const noTemplates = await runProbe(storageTemplateDownload, target({ template_objects: [] }));
      expect(noTemplates.error).toMatchObject({ name: 'ProbeSkip', reason: 'not_configured' });
    });

    it('bad credentials: auth, naming target and bucket, no secret in the message', async () => {
      const bad = bed.badCredentials();
      for (const [probe, options] of PROBES) {
        const { error } = await runProbe(probe, target(bad.over), options);
        expectStorageFailure(error, 'auth', name, BUCKET, bad.secrets);
      }
      expect(await bed.keys(PREFIX)).toEqual([]);
    });

    it('missing bucket: storage_error naming target and bucket', async () => {
      for (const [probe, options] of PROBES) {
        const { error } = await runProbe(probe, target({ bucket: 'no-such-bucket' }), options);
        expectStorageFailure(error, 'storage_error', name, 'no-such-bucket', bed.secrets);
        expect((error as Error).message).toMatch(/bucket does not exist/);
      }
    });

    it('unreachable endpoint (refused, and accepting but silent): timeout', async () => {
      const refused = bed.endpointFor(`http://127.0.0.1:${await freePort()}`);
      const r1 = await runProbe(storageLatency, target({ endpoint: refused }), { max_attempts: 1, sample_gap: '0s' });
      expectStorageFailure(r1.error, 'timeout', name, BUCKET, bed.secrets);
      expect((r1.error as Error).message).toMatch(/unreachable \(ECONNREFUSED\)/);

      const silent = await silentServer();
      try {
        const over = { endpoint: bed.endpointFor(silent.endpoint) };
        const r2 = await runProbe(storageObjects, target(over), { ...SMALL, request_timeout: '1s', max_attempts: 1 });
        expectStorageFailure(r2.error, 'timeout', name, BUCKET, bed.secrets);
      } finally {
        await silent.stop();
      }
    });

    it('an aborted run leaves nothing under the prefix', async () => {
      const proxy = new SlowProxy(bed.port(), 1_500_000); // transfers crawl, so the abort lands mid-run
      const origin = await proxy.start();
      let seenAtAbort: string[] = [];
      try {
        const { ctx, error } = await runProbe(
          storageObjects,
          target({ endpoint: bed.endpointFor(origin) }),
          { ...SMALL, sizes: ['64KiB'], parallel_objects: 6, parallel_size: '512KiB', list_objects: 0 },
          1,
          (c) => {
            const poll = setInterval(async () => {
              const now = await bed.keys(PREFIX).catch(() => []);
              if (now.some((k) => k.includes('/parallel/')) && !c.signal.aborted) {
                seenAtAbort = now;
                c.abort();
              }
            }, 20);
            c.defer('test: stop polling', () => clearInterval(poll));
          },
        );
        expect(ctx.signal.aborted).toBe(true);
        expect(error).toBeDefined();
        expect(seenAtAbort.length).toBeGreaterThan(0);
        expect(await bed.keys(PREFIX)).toEqual([]);
      } finally {
        await proxy.stop();
      }
    });
  });
}
