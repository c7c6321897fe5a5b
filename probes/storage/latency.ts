import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import { z } from 'zod';
import { bytes, duration } from '../../src/config/schema.js';
import { ProbeError } from '../../src/probe/reasons.js';
import { defineProbe } from '../../src/probe/types.js';
import { checkAborted, gap, latencyStats, openStorage, where } from './common.js';
import { drain, patternBuffer, sha256, sizeClass } from './data.js';

const options = z
  .object({
    /** Size of the object written under the run prefix for GET time-to-first-byte. */
    object_size: bytes.default('4KiB'),
    /** Read this existing object instead of writing one (read-only buckets). */
    object: z.string().min(1).optional(),
    sample_gap: duration.default('1s'),
    request_timeout: duration.default('30s'),
    /** 1: a retried request would hide its failure inside a latency sample. */
    max_attempts: z.number().int().positive().default(1),
  })
  .strict();

const H = 'e2bbench_storage_operation_seconds' as const;
const MIN_SAMPLES = 10; // p95 needs at least this many

export const storageLatency = defineProbe({
  name: 'storage.latency',
  family: 'storage',
  requires: ['storage'],
  description:
    'Host to object storage latency: TCP connect to the endpoint, HEAD, and small GET time to first byte (p50 / p95)',
  defaults: { interval: '5m', timeout: '2m', samples: MIN_SAMPLES },
  options,
  async run(ctx) {
    const o = ctx.settings.options;
    const run = await openStorage(ctx, {
      write: !o.object,
      requestTimeoutMs: o.request_timeout,
      maxAttempts: o.max_attempts,
    });
    const { client } = run;
    const provider = client.provider;
    await ctx.phase('storage.check_bucket', () => client.checkBucket({ signal: ctx.signal }));

    let key = o.object;
    let expected: { bytes: number; sha256: string } | undefined;
    if (!key) {
      key = `${run.prefix}latency/object`;
      const body = patternBuffer(o.object_size, `${key}#${ctx.runId}`);
      expected = { bytes: body.length, sha256: sha256(body) };
      await run.track(client.put(key, body, { size: body.length, signal: ctx.signal }));
    }
    const info = await client.head(key, { signal: ctx.signal });
    const size_class = sizeClass(info.size);

    const host = client.endpoint.hostname.replace(/^\[|\]$/g, '');
    const port = Number(client.endpoint.port || (client.endpoint.protocol === 'https:' ? 443 : 80));
    const address = (await lookup(host)).address; // DNS outside the timed connect

    const times: Record<'connect' | 'head' | 'get_first_byte', number[]> = {
      connect: [],
      head: [],
      get_first_byte: [],
    };
    const samples = Math.max(ctx.settings.samples, MIN_SAMPLES);
    for (let i = 0; i < samples; i++) {
      if (i > 0) await gap(o.sample_gap, ctx.signal);
      checkAborted(ctx.signal);
      times.connect.push(await tcpConnect(address, port, o.request_timeout, ctx.signal, where(ctx, client)));

      const t0 = performance.now();
      await client.head(key, { signal: ctx.signal });
      times.head.push((performance.now() - t0) / 1000);

      const t1 = performance.now();
      const got = await drain(await client.get(key, { signal: ctx.signal }), { startedAt: t1 });
      times.get_first_byte.push((got.firstByteMs ?? performance.now() - t1) / 1000);
      if (expected && (got.bytes !== expected.bytes || got.sha256 !== expected.sha256)) {
        throw new ProbeError(
          'storage_error',
          `${where(ctx, client)}: "${key}" came back different (${got.bytes} bytes)`,
        );
      }
    }

    for (const [operation, secs] of Object.entries(times)) {
      const sc = operation === 'get_first_byte' ? size_class : 'none';
      for (const s of secs) ctx.observe(H, { storage_provider: provider, operation, size_class: sc }, s);
      for (const { statistic, value } of latencyStats(secs)) {
        ctx.gauge('e2bbench_storage_latency_seconds', { storage_provider: provider, operation, statistic }, value);
      }
    }
    ctx.detail('latency', { endpoint: `${host}:${port}`, object_bytes: info.size, samples, seconds: times });
  },
});

/** Seconds for a TCP handshake to the endpoint (no TLS, no request). */
function tcpConnect(host: string, port: number, timeoutMs: number, signal: AbortSignal, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const sock = connect({ host, port, timeout: timeoutMs, signal });
    sock.once('connect', () => {
      const s = (performance.now() - t0) / 1000;
      sock.destroy();
      resolve(s);
    });
    sock.once('timeout', () => {
      sock.destroy();
      reject(new ProbeError('timeout', `${what}: TCP connect to ${host}:${port} timed out`));
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      const e = new ProbeError(
        'timeout',
        `${what}: TCP connect to ${host}:${port} failed (${err.code ?? err.message})`,
      );
      reject(signal.aborted ? err : e);
    });
  });
}
