import { createHash, type Hash } from 'node:crypto';
import { z } from 'zod';
import { bytes, duration } from '../../src/config/schema.js';
import { effectivePricing } from '../../src/cost/pricing.js';
import { ProbeError, ProbeSkip } from '../../src/probe/reasons.js';
import { defineProbe, type ProbeContext } from '../../src/probe/types.js';
import { mapLimit } from '../../src/storage/abort.js';
import type { ObjectInfo, StorageClient } from '../../src/storage/index.js';
import { openStorage, where } from './common.js';
import { drain, sizeClass } from './data.js';

const options = z
  .object({
    range_size: bytes.default('4MiB'),
    concurrency: z.array(z.number().int().positive()).min(1).default([1, 16]),
    /** Check the provider's MD5 of the whole object when it states one (S3 single-part ETag, GCS, Azure). */
    verify_md5: z.boolean().default(true),
    request_timeout: duration.default('2m'),
    max_attempts: z.number().int().positive().default(3),
  })
  .strict();
type Options = z.output<typeof options>;

const GiB = 2 ** 30;

export const storageTemplateDownload = defineProbe({
  name: 'storage.template_download',
  family: 'storage',
  requires: ['storage'],
  description:
    'Template artifact download speed from the bucket with ranged GETs at concurrency 1 and 16; read-only, verified by checksum',
  defaults: { interval: '1h', timeout: '30m', samples: 1 },
  options,
  async run(ctx) {
    const o = ctx.settings.options;
    const cfg = ctx.target.storage;
    if (!cfg) throw new ProbeSkip('not_configured', `target "${ctx.target.name}" has no storage configured`);
    if (cfg.template_objects.length === 0) {
      throw new ProbeSkip('not_configured', `target "${ctx.target.name}": storage.template_objects is empty`);
    }
    // Read-only: no prefix, and no call below writes or deletes.
    const { client } = await openStorage(ctx, {
      write: false,
      requestTimeoutMs: o.request_timeout,
      maxAttempts: o.max_attempts,
    });
    const provider = client.provider;
    await ctx.phase('storage.check_bucket', () => client.checkBucket({ signal: ctx.signal }));
    const objects = await Promise.all(cfg.template_objects.map((k) => client.head(k, { signal: ctx.signal })));
    const total = objects.reduce((a, x) => a + x.size, 0);
    if (total === 0) throw new ProbeError('storage_error', `${where(ctx, client)}: template objects are empty`);

    let reference: string[] | undefined;
    const runs: Record<string, unknown>[] = [];
    for (const c of o.concurrency) {
      const { value, seconds } = await ctx.phase(
        `storage.template_download.c${c}`,
        () => download(ctx, client, objects, c),
        { concurrency: c, bytes: total },
      );
      for (const [i, obj] of objects.entries()) {
        const d = value[i];
        if (d.bytes !== obj.size) {
          throw new ProbeError(
            'storage_error',
            `${where(ctx, client)}: "${obj.key}" gave ${d.bytes} of ${obj.size} bytes`,
          );
        }
        if (o.verify_md5 && obj.md5 && d.md5 !== obj.md5) {
          throw new ProbeError(
            'storage_error',
            `${where(ctx, client)}: "${obj.key}" MD5 ${d.md5} differs from the stored ${obj.md5}`,
          );
        }
      }
      const sums = value.map((d) => d.sha256);
      if (reference && sums.some((s, i) => s !== reference![i])) {
        throw new ProbeError(
          'storage_error',
          `${where(ctx, client)}: template bytes differ between downloads at different concurrency`,
        );
      }
      reference = sums;
      const labels = { storage_provider: provider, concurrency: String(c) };
      ctx.gauge('e2bbench_template_download_bytes_per_second', labels, total / seconds);
      ctx.gauge('e2bbench_template_download_seconds_per_gib', labels, seconds / (total / GiB));
      runs.push({ concurrency: c, seconds, bytes_per_second: total / seconds });
    }
    ctx.detail('template_download', {
      objects: objects.map((x, i) => ({
        key: x.key,
        bytes: x.size,
        sha256: reference![i],
        md5_checked: Boolean(o.verify_md5 && x.md5),
      })),
      range_bytes: o.range_size,
      runs,
    });

    // Cost model input: what the templates (and snapshots) occupy, unless the pricing config says.
    const pricing = effectivePricing(ctx.target);
    if (pricing && pricing.config.template_bytes === undefined) ctx.gauge('e2bbench_cost_template_bytes', {}, total);
    if (pricing && pricing.config.snapshot_bytes === undefined && cfg.snapshot_prefix) {
      const snaps = await client.list(cfg.snapshot_prefix, { signal: ctx.signal });
      ctx.gauge(
        'e2bbench_cost_snapshot_bytes',
        {},
        snaps.reduce((a, x) => a + x.size, 0),
      );
    }
  },
});

interface Downloaded {
  bytes: number;
  sha256: string;
  md5: string;
}

/**
 * Downloads every object as ranged GETs, `concurrency` at a time, hashing each object in order.
 * Ranges that finish early wait in a window of bounded size (2 × concurrency ranges in memory).
 */
async function download(
  ctx: ProbeContext<Options>,
  client: StorageClient,
  objects: ObjectInfo[],
  concurrency: number,
): Promise<Downloaded[]> {
  const rangeSize = ctx.settings.options.range_size;
  const tasks: { obj: number; start: number; end: number }[] = [];
  objects.forEach((x, obj) => {
    for (let start = 0; start < x.size; start += rangeSize)
      tasks.push({ obj, start, end: Math.min(x.size, start + rangeSize) - 1 });
  });
  const hashes = objects.map(() => ({ sha: createHash('sha256') as Hash, md5: createHash('md5') as Hash, bytes: 0 }));
  const pending = new Map<number, Buffer>();
  let hashed = 0; // tasks before this index are hashed
  let wake: (() => void)[] = [];
  const window = 2 * concurrency;
  const size_class = sizeClass(rangeSize);

  let failed = false;
  const wakeAll = () => {
    const w = wake;
    wake = [];
    for (const r of w) r();
  };

  await mapLimit(tasks, concurrency, async (t, i) => {
    try {
      await fetchRange(t, i);
    } catch (err) {
      failed = true; // waiters must not wait for a range that will never arrive
      wakeAll();
      throw err;
    }
  });
  return hashes.map((h) => ({ bytes: h.bytes, sha256: h.sha.digest('hex'), md5: h.md5.digest('hex') }));

  async function fetchRange(t: (typeof tasks)[number], i: number): Promise<void> {
    while (i >= hashed + window) {
      if (failed) throw new Error('download stopped');
      await new Promise<void>((r) => wake.push(r));
    }
    if (failed) throw new Error('download stopped');
    const t0 = performance.now();
    const got = await drain(await client.get(objects[t.obj].key, { range: t, signal: ctx.signal }), { keep: true });
    ctx.observe(
      'e2bbench_storage_operation_seconds',
      { storage_provider: client.provider, operation: 'ranged_get', size_class },
      (performance.now() - t0) / 1000,
    );
    if (got.bytes !== t.end - t.start + 1) {
      throw new ProbeError(
        'storage_error',
        `${where(ctx, client)}: range ${t.start}-${t.end} of "${objects[t.obj].key}" gave ${got.bytes} bytes`,
      );
    }
    pending.set(i, got.buffer!);
    while (pending.has(hashed)) {
      const buf = pending.get(hashed)!;
      pending.delete(hashed);
      const h = hashes[tasks[hashed].obj];
      h.sha.update(buf);
      h.md5.update(buf);
      h.bytes += buf.length;
      hashed++;
    }
    wakeAll();
  }
}
