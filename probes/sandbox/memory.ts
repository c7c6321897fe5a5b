import { posix } from 'node:path';
import { z } from 'zod';
import { bytes, duration } from '../../src/config/schema.js';
import {
  bench,
  runMemoryLatency,
  runOptions,
  runSysbenchMemory,
  runTool,
  sysbenchBlockSize,
  wholeSeconds,
} from '../tools/index.js';
import { ensureBench, measureSandboxes, defineSandboxProbe } from './common.js';
import { parseAllocOutput } from './parsers/bench.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/**
 * Bytes the allocation test may take in a sandbox of `memoryMb`: the configured size while it
 * leaves a quarter of the memory free, else the largest whole MiB count under half the memory
 * (an OOM kill would measure nothing).
 */
export function allocBytesFor(configured: number, memoryMb: number): number {
  const memory = memoryMb * MIB;
  if (memoryMb <= 0 || configured <= memory * 0.75) return configured;
  return Math.max(MIB, Math.floor(memory / 2 / MIB) * MIB);
}

export const sandboxMemory = defineSandboxProbe({
  name: 'sandbox.memory',
  description:
    'Inside a sandbox: sysbench memory sequential read/write bandwidth (1 MiB blocks), the time to allocate 1 GiB and write every byte (bench/alloc.py), and load latency from a pointer chase over a working set larger than the last-level cache (bench/memlat.mjs). A sandbox too small for 1 GiB gets a smaller allocation, published per GiB under another name with the size used.',
  defaults: { interval: '15m', timeout: '5m', samples: 3 },
  options: {
    /** Length of each sysbench run. */
    time: duration.default('5s'),
    threads: z.number().int().positive().default(1),
    block_size: sysbenchBlockSize,
    /** Memory the allocation test takes (reported per GiB). */
    alloc_size: bytes.default('1GiB'),
    /** Timed allocations per sample (their median is the sample). */
    alloc_repeat: z.number().int().positive().default(3),
    /** Working set of the latency chase: far larger than the last-level cache. */
    latency_size: bytes.default('256MiB'),
    /** Timed part of each latency chase (after one untimed pass over the working set). */
    latency_time: duration.default('2s'),
  },
  load: ['cpu', 'memory'],
  async run(ctx) {
    const opts = ctx.settings.options;
    const o = runOptions(ctx);
    const seconds = wholeSeconds(opts.time);
    const versions = { tools: ['sysbench'], runtimes: ['python' as const, 'node' as const], bench: true };
    await measureSandboxes(ctx, { versions, raw: 'alloc' }, async (sb, m) => {
      const dir = await ensureBench(ctx, sb);
      const allocBytes = allocBytesFor(opts.alloc_size, sb.spec.memoryMb);
      if (allocBytes !== opts.alloc_size) {
        ctx.log(
          `allocating ${allocBytes} bytes instead of ${opts.alloc_size}: the sandbox has ${sb.spec.memoryMb} MiB`,
        );
      }
      const latencyBytes = allocBytesFor(opts.latency_size, sb.spec.memoryMb);
      if (latencyBytes !== opts.latency_size) {
        ctx.log(
          `latency working set ${latencyBytes} bytes instead of ${opts.latency_size}: the sandbox has ${sb.spec.memoryMb} MiB`,
        );
      }
      for (let i = 0; i < ctx.settings.samples; i++) {
        for (const operation of ['read', 'write'] as const) {
          const r = await bench(
            ctx,
            'sysbench',
            () =>
              runSysbenchMemory(sb.exec, { operation, seconds, threads: opts.threads, blockSize: opts.block_size }, o),
            { test: 'memory', operation, sandbox: sb.index },
          );
          m.add('e2bbench_memory_bandwidth_bytes_per_second', { scope: 'sandbox', operation }, r.bytesPerSecond);
        }
        const alloc = await bench(
          ctx,
          'alloc',
          async () => {
            const r = await runTool(
              sb.exec,
              'python3',
              [posix.join(dir, 'alloc.py'), '--bytes', String(allocBytes), '--repeat', String(opts.alloc_repeat)],
              { ...o, timeoutMs: 120_000 },
            );
            return parseAllocOutput(r.stdout);
          },
          { bytes: allocBytes, sandbox: sb.index },
        );
        m.keep({ ...alloc });
        const latency = await bench(
          ctx,
          'memlat',
          () =>
            runMemoryLatency(
              sb.exec,
              {
                node: 'node',
                script: posix.join(dir, 'memlat.mjs'),
                bytes: latencyBytes,
                seconds: Math.max(0.1, opts.latency_time / 1000),
              },
              o,
            ),
          { bytes: latencyBytes, sandbox: sb.index },
        );
        m.add('e2bbench_memory_latency_seconds', { scope: 'sandbox' }, latency.medianSeconds);
        m.keep({ latency });
        // The 1 GiB figure only when it was measured as defined; a smaller allocation is its own figure.
        if (alloc.bytes === GIB) m.add('e2bbench_memory_alloc_seconds', { scope: 'sandbox' }, alloc.medianSeconds);
        else
          m.add(
            'e2bbench_memory_alloc_seconds_per_gib',
            { scope: 'sandbox', alloc_bytes: String(alloc.bytes) },
            alloc.medianSeconds * (GIB / alloc.bytes),
          );
      }
    });
  },
});
