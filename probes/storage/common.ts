import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { ProbeError, ProbeSkip } from '../../src/probe/reasons.js';
import type { ProbeContext } from '../../src/probe/types.js';
import { createStorageClient, type StorageClient } from '../../src/storage/index.js';
import { percentile } from '../../src/stats/summary.js';
import { sleep } from '../../src/probe/sleep.js';

/** Long enough for a big prefix; independent of the run's own (maybe already fired) abort signal. */
const CLEANUP_TIMEOUT_MS = 120_000;
/** After an abort with writes in flight: empty lists this far apart, this many times. */
const SETTLE_MS = 1_500;
const SETTLE_CHECKS = 2;

export interface StorageRun {
  client: StorageClient;
  /** This run's own prefix (`<configured prefix><run id>-<random>/`); undefined for read-only runs. */
  prefix?: string;
  /** Registers an operation that may create objects, so cleanup waits until it has settled. */
  track<T>(p: Promise<T>): Promise<T>;
}

export interface OpenOptions {
  write: boolean;
  requestTimeoutMs: number;
  maxAttempts: number;
}

/**
 * Opens the target's bucket for a probe run. Skips when the target has no storage. A writing run
 * gets a unique prefix, and its deletion is deferred before anything is written, so it happens on
 * every path: success, failure, timeout, abort.
 */
export async function openStorage(ctx: ProbeContext<unknown>, opts: OpenOptions): Promise<StorageRun> {
  const cfg = ctx.target.storage;
  if (!cfg) throw new ProbeSkip('not_configured', `target "${ctx.target.name}" has no storage configured`);
  // Every in-flight request listens on the run's signal (parallel uploads, ranged GETs at 16).
  setMaxListeners(256, ctx.signal);
  const client = await createStorageClient(ctx.target, {
    requestTimeoutMs: opts.requestTimeoutMs,
    maxAttempts: opts.maxAttempts,
  });
  ctx.defer('storage: close client', () => client.close());

  const inflight = new Set<Promise<unknown>>();
  let wrote = false;
  const track = <T>(p: Promise<T>): Promise<T> => {
    wrote = true;
    inflight.add(p);
    const forget = () => inflight.delete(p);
    p.then(forget, forget);
    return p;
  };
  if (!opts.write) return { client, track };

  const prefix = `${cfg.prefix}${ctx.runId.replace(/[^A-Za-z0-9._-]/g, '_')}-${randomBytes(4).toString('hex')}/`;
  ctx.defer(`storage: delete ${prefix}`, async () => {
    if (!wrote) return; // nothing to delete, and the bucket may be unreachable
    // Writes cut short by an abort may still land: the server can have the whole body already.
    const raced = inflight.size > 0 || ctx.signal.aborted;
    await Promise.allSettled([...inflight]);
    const deleted = await deleteUntilEmpty(client, prefix, raced ? SETTLE_CHECKS : 0);
    ctx.log(`deleted ${deleted} objects under ${prefix}`);
  });
  return { client, prefix, track };
}

/**
 * Deletes and re-lists until nothing is left (a write racing an abort may land after the first
 * pass). After an abort, "empty" must also hold for `settleChecks` more lists SETTLE_MS apart.
 */
async function deleteUntilEmpty(client: StorageClient, prefix: string, settleChecks: number): Promise<number> {
  const signal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
  let deleted = 0;
  let checks = settleChecks;
  for (let attempt = 0; attempt < 6; attempt++) {
    if (attempt > 0) await sleep(250 * attempt);
    deleted += await client.deletePrefix(prefix, { signal });
    let left = await client.list(prefix, { signal });
    while (left.length === 0 && checks > 0) {
      checks--;
      await sleep(SETTLE_MS);
      left = await client.list(prefix, { signal });
    }
    if (left.length === 0) return deleted;
  }
  throw new ProbeError(
    'storage_error',
    `${client.provider} bucket "${client.bucket}": objects still under "${prefix}" after cleanup`,
  );
}

/** `target "x": s3 bucket "b"`: how every storage message starts. */
export function where(ctx: ProbeContext<unknown>, client: StorageClient): string {
  return `target "${ctx.target.name}": ${client.provider} bucket "${client.bucket}"`;
}

/** p50 / p95 of seconds, as `statistic` gauges. */
export function latencyStats(samples: readonly number[]): { statistic: string; value: number }[] {
  const sorted = [...samples].sort((a, b) => a - b);
  return [
    { statistic: 'p50', value: percentile(sorted, 50) },
    { statistic: 'p95', value: percentile(sorted, 95) },
  ];
}

/** Throws the run's abort reason when it was aborted between steps. */
export function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason ?? new Error('aborted');
}

export async function gap(ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) await sleep(ms, signal);
}
