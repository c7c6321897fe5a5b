import { describe, expect, it } from 'vitest';
import { storageObjects } from '../../probes/storage/objects.js';
import { GcsStub } from './gcs-stub.js';
import { expectStorageFailure, runProbe, storageTarget } from './harness.js';
import { BUCKET, PREFIX, TEMPLATES, storageSuite } from './suite.js';

// Nothing that speaks GCS's native JSON API runs here (no emulator on npm that we can use), so the
// GCS client is tested against a small local HTTP stub of that API (gcs-stub.ts), not against GCS.
// It checks our client and probes drive the real @google-cloud/storage library correctly; GCS's own
// behaviour (auth, consistency, limits) is not covered. Bad credentials are simulated by a stub that
// answers 401, as GCS does.
const stub = new GcsStub({ buckets: [BUCKET] });
const rejecting = new GcsStub({ buckets: [BUCKET], rejectAuth: true });

storageSuite({
  provider: 'gcs',
  async start() {
    await stub.start();
    await rejecting.start();
    for (const [k, v] of Object.entries(TEMPLATES)) stub.objects.get(BUCKET)!.set(k, v);
  },
  async stop() {
    await stub.stop();
    await rejecting.stop();
  },
  storage: (over = {}) => ({
    kind: 'gcs',
    bucket: BUCKET,
    endpoint: stub.url,
    project_id: 'e2b-bench-test',
    prefix: PREFIX,
    template_objects: Object.keys(TEMPLATES),
    ...over,
  }),
  port: () => Number(new URL(stub.url).port),
  endpointFor: (origin) => origin,
  keys: async (prefix) => stub.keys(BUCKET, prefix),
  badCredentials: () => ({ over: { endpoint: rejecting.url }, secrets: [] }),
  secrets: [],
});

describe('gcs (stub): a run that fails half-way', () => {
  it('still deletes what it wrote', async () => {
    const failing = new GcsStub({ buckets: [BUCKET], failUpload: 5 }); // 2 singles in, then a parallel upload fails
    await failing.start();
    try {
      let written = 0;
      const target = storageTarget('test-gcs', { kind: 'gcs', bucket: BUCKET, endpoint: failing.url, prefix: PREFIX });
      const { error } = await runProbe(
        storageObjects,
        target,
        {
          sizes: ['64KiB'],
          parallel_objects: 4,
          parallel_size: '32KiB',
          list_objects: 0,
          sample_gap: '0s',
          max_attempts: 1,
        },
        2,
        (c) => {
          const phase = c.phase.bind(c);
          c.phase = async (n, fn, attrs) => {
            try {
              return await phase(n, fn, attrs);
            } finally {
              written = Math.max(written, failing.keys(BUCKET, PREFIX).length);
            }
          };
        },
      );
      expectStorageFailure(error, 'storage_error', 'test-gcs', BUCKET, []);
      expect((error as Error).message).toMatch(/HTTP 503/);
      expect(written).toBeGreaterThan(0); // some parallel objects had landed when it failed
      expect(failing.keys(BUCKET, PREFIX)).toEqual([]);
    } finally {
      await failing.stop();
    }
  });
});
