import { z } from 'zod';
import { bytes, duration } from '../../src/config/schema.js';
import { ProbeError } from '../../src/probe/reasons.js';
import { defineProbe, type ProbeContext } from '../../src/probe/types.js';
import { mapLimit } from '../../src/storage/abort.js';
import { median } from '../../src/stats/summary.js';
import { checkAborted, gap, latencyStats, openStorage, where, type StorageRun } from './common.js';
import { PatternStream, drain, patternBuffer, sha256, sizeClass } from './data.js';

const options = z
  .object({
    /** Objects uploaded and downloaded one at a time, `samples` times each. Add "1GiB" for the optional large size. */
    sizes: z.array(bytes).min(1).default(['1MiB', '10MiB', '100MiB']),
    /** At or above this size uploads go in parts (S3 multipart, Azure blocks, GCS resumable chunks). */
    multipart_threshold: bytes.default('64MiB'),
    part_size: bytes.default('16MiB'),
    part_concurrency: z.number().int().positive().default(4),
    /** N objects of this size uploaded, then downloaded, all at once: aggregate bytes/s. */
    parallel_objects: z.number().int().nonnegative().default(10),
    parallel_size: bytes.default('10MiB'),
    /** A prefix of K small objects for list latency; HEAD latency is measured on them too. */
    list_objects: z.number().int().nonnegative().default(100),
    list_object_size: bytes.default('1KiB'),
    /** Objects above this are streamed from a generator instead of held in memory. */
    stream_above: bytes.default('256MiB'),
    sample_gap: duration.default('1s'),
    request_timeout: duration.default('2m'),
    max_attempts: z.number().int().positive().default(3),
  })
  .strict();
type Options = z.output<typeof options>;

const H = 'e2bbench_storage_operation_seconds' as const;
const T = 'e2bbench_storage_throughput_bytes_per_second' as const;

export const storageObjects = defineProbe({
  name: 'storage.objects',
  family: 'storage',
  requires: ['storage'],
  description:
    'Object storage upload / download throughput (single, multipart, parallel), list and HEAD latency; writes only under a unique run prefix and deletes it',
  defaults: { interval: '1h', timeout: '20m', samples: 3 },
  options,
  async run(ctx) {
    const o = ctx.settings.options;
    const run = await openStorage(ctx, {
      write: true,
      requestTimeoutMs: o.request_timeout,
      maxAttempts: o.max_attempts,
    });
    await ctx.phase('storage.check_bucket', () => run.client.checkBucket({ signal: ctx.signal }));
    ctx.detail('storage', {
      provider: run.client.provider,
      bucket: run.client.bucket,
      endpoint: run.client.endpoint.origin,
      prefix: run.prefix,
    });

    for (const size of o.sizes) {
      await ctx.phase(`storage.single.${sizeClass(size)}`, () => single(ctx, run, size));
    }
    if (o.parallel_objects > 0) await ctx.phase('storage.parallel', () => parallel(ctx, run));
    if (o.list_objects > 0) await ctx.phase('storage.list', () => listAndHead(ctx, run));
  },
});

/** One object at a time: put, get (first byte and whole), verify, delete; `samples` times. */
async function single(ctx: ProbeContext<Options>, run: StorageRun, size: number): Promise<void> {
  const o = ctx.settings.options;
  const provider = run.client.provider;
  const size_class = sizeClass(size);
  const put: number[] = [];
  const get: number[] = [];
  let multipart = false;
  for (let i = 0; i < ctx.settings.samples; i++) {
    if (i > 0) await gap(o.sample_gap, ctx.signal);
    checkAborted(ctx.signal);
    const key = `${run.prefix}single/${size_class}-${i}`;
    const seed = `${key}#${ctx.runId}`;
    const streamed = size > o.stream_above;
    const buf = streamed ? undefined : patternBuffer(size, seed);
    const body = buf ?? new PatternStream(size, seed);

    const t0 = performance.now();
    const r = await run.track(
      run.client.put(key, body, {
        size,
        multipartThreshold: o.multipart_threshold,
        partSize: o.part_size,
        partConcurrency: o.part_concurrency,
        signal: ctx.signal,
      }),
    );
    const putS = (performance.now() - t0) / 1000;
    multipart = r.multipart;
    const expected = buf ? sha256(buf) : (body as PatternStream).digest();

    const t1 = performance.now();
    const stream = await run.client.get(key, { signal: ctx.signal });
    const got = await drain(stream, { startedAt: t1 });
    const getS = (performance.now() - t1) / 1000;
    verify(ctx, run, key, size, expected, got);

    const t2 = performance.now();
    await run.client.delete(key, { signal: ctx.signal });
    const delS = (performance.now() - t2) / 1000;

    ctx.observe(H, { storage_provider: provider, operation: 'put', size_class }, putS);
    ctx.observe(H, { storage_provider: provider, operation: 'get', size_class }, getS);
    if (got.firstByteMs !== undefined) {
      ctx.observe(H, { storage_provider: provider, operation: 'get_first_byte', size_class }, got.firstByteMs / 1000);
    }
    ctx.observe(H, { storage_provider: provider, operation: 'delete', size_class }, delS);
    put.push(putS);
    get.push(getS);
  }
  ctx.gauge(T, { storage_provider: provider, operation: 'put', mode: 'single', size_class }, size / median(put));
  ctx.gauge(T, { storage_provider: provider, operation: 'get', mode: 'single', size_class }, size / median(get));
  ctx.detail(`single_${size_class}`, {
    bytes: size,
    multipart,
    put_seconds: put,
    get_seconds: get,
    verified: 'sha256',
  });
}

/** N objects at once: aggregate bytes/s of the upload, then of the download. */
async function parallel(ctx: ProbeContext<Options>, run: StorageRun): Promise<void> {
  const o = ctx.settings.options;
  const provider = run.client.provider;
  const size = o.parallel_size;
  const size_class = sizeClass(size);
  const keys = Array.from({ length: o.parallel_objects }, (_, i) => `${run.prefix}parallel/${i}`);
  const bodies = keys.map((k) => patternBuffer(size, `${k}#${ctx.runId}`));
  const sums = bodies.map(sha256);
  const putOpts = {
    size,
    multipartThreshold: o.multipart_threshold,
    partSize: o.part_size,
    partConcurrency: o.part_concurrency,
    signal: ctx.signal,
  };

  const t0 = performance.now();
  await Promise.all(keys.map((k, i) => run.track(run.client.put(k, bodies[i], putOpts))));
  const putS = (performance.now() - t0) / 1000;

  const t1 = performance.now();
  await Promise.all(
    keys.map(async (k, i) => {
      const got = await drain(await run.client.get(k, { signal: ctx.signal }));
      verify(ctx, run, k, size, sums[i], got);
    }),
  );
  const getS = (performance.now() - t1) / 1000;

  const total = size * keys.length;
  ctx.gauge(T, { storage_provider: provider, operation: 'put', mode: 'aggregate', size_class }, total / putS);
  ctx.gauge(T, { storage_provider: provider, operation: 'get', mode: 'aggregate', size_class }, total / getS);
  ctx.detail('parallel', { objects: keys.length, bytes_each: size, put_seconds: putS, get_seconds: getS });
  await run.client.deletePrefix(`${run.prefix}parallel/`, { signal: ctx.signal });
}

/** List latency over a prefix of K objects, and HEAD latency on some of them. */
async function listAndHead(ctx: ProbeContext<Options>, run: StorageRun): Promise<void> {
  const o = ctx.settings.options;
  const provider = run.client.provider;
  const dir = `${run.prefix}list/`;
  const body = patternBuffer(o.list_object_size, `${dir}#${ctx.runId}`);
  const keys = Array.from({ length: o.list_objects }, (_, i) => `${dir}${String(i).padStart(6, '0')}`);
  await run.track(mapLimit(keys, 16, (k) => run.client.put(k, body, { size: body.length, signal: ctx.signal })));

  const list: number[] = [];
  const head: number[] = [];
  const samples = Math.max(ctx.settings.samples, 10);
  for (let i = 0; i < samples; i++) {
    checkAborted(ctx.signal);
    const t0 = performance.now();
    const found = await run.client.list(dir, { signal: ctx.signal });
    list.push((performance.now() - t0) / 1000);
    if (found.length !== keys.length) {
      throw new ProbeError(
        'storage_error',
        `${where(ctx, run.client)}: list returned ${found.length} of ${keys.length} objects`,
      );
    }
    const t1 = performance.now();
    const info = await run.client.head(keys[i % keys.length], { signal: ctx.signal });
    head.push((performance.now() - t1) / 1000);
    if (info.size !== body.length) {
      throw new ProbeError(
        'storage_error',
        `${where(ctx, run.client)}: head reported ${info.size} bytes, wrote ${body.length}`,
      );
    }
  }
  for (const s of list) ctx.observe(H, { storage_provider: provider, operation: 'list', size_class: 'none' }, s);
  for (const s of head) ctx.observe(H, { storage_provider: provider, operation: 'head', size_class: 'none' }, s);
  for (const { statistic, value } of latencyStats(list)) {
    ctx.gauge('e2bbench_storage_latency_seconds', { storage_provider: provider, operation: 'list', statistic }, value);
  }
  ctx.detail('list', { objects: keys.length, list_seconds: list, head_seconds: head });
}

function verify(
  ctx: ProbeContext<Options>,
  run: StorageRun,
  key: string,
  size: number,
  expected: string,
  got: { bytes: number; sha256: string },
): void {
  if (got.bytes !== size || got.sha256 !== expected) {
    throw new ProbeError(
      'storage_error',
      `${where(ctx, run.client)}: "${key}" came back different: ${got.bytes} bytes, sha256 ${got.sha256.slice(0, 12)}…, ` +
        `wrote ${size} bytes, sha256 ${expected.slice(0, 12)}…`,
    );
  }
}
