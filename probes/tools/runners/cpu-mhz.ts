import type { Exec } from '../exec.js';
import { readCpuinfo } from './procfs.js';

export interface MhzSampler {
  /** Stops sampling; resolves with the mean MHz over CPUs of each sample taken. */
  stop(): Promise<number[]>;
}

/**
 * Samples /proc/cpuinfo "cpu MHz" every intervalMs while a benchmark runs (frequency stability).
 * Failed reads are skipped: a missing sample must not fail the benchmark it accompanies.
 */
export function sampleCpuMhz(exec: Exec, signal: AbortSignal, intervalMs = 500): MhzSampler {
  const samples: number[] = [];
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped && !signal.aborted) {
      try {
        const { mhz } = await readCpuinfo(exec, { signal, timeoutMs: 5000 });
        if (mhz.length) samples.push(mhz.reduce((a, b) => a + b, 0) / mhz.length);
      } catch {
        // see above
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, intervalMs);
      });
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      return samples;
    },
  };
}

/** Coefficient of variation (population stddev / mean); 0 for fewer than two samples. */
export function coefficientOfVariation(values: number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (mean === 0) return 0;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
  return Math.sqrt(variance) / mean;
}
