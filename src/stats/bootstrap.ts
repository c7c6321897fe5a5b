import { percentile } from './summary.js';

/** mulberry32: a small seeded generator, so the same samples always give the same interval. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Interval {
  low: number;
  high: number;
}

/**
 * Percentile bootstrap confidence interval of the p-th percentile (the same interpolated
 * definition as `percentile`): resample the samples with replacement `resamples` times, take the
 * percentile of each, and keep the central `confidence` share of those. Undefined below 2 samples.
 * With few samples the interval is wide, and a p95 of 10 samples can never exceed their maximum:
 * that is what a reader needs to see next to the figure.
 */
export function bootstrapCi(
  samples: readonly number[],
  p: number,
  opts: { resamples?: number; confidence?: number; seed?: number } = {},
): Interval | undefined {
  const n = samples.length;
  if (n < 2) return undefined;
  const resamples = opts.resamples ?? 2000;
  const alpha = (1 - (opts.confidence ?? 0.95)) / 2;
  const rand = seeded(opts.seed ?? 0x5eed);
  const stats = new Array<number>(resamples);
  const draw = new Array<number>(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) draw[i] = samples[Math.floor(rand() * n)];
    draw.sort((x, y) => x - y);
    stats[b] = percentile(draw, p);
  }
  stats.sort((x, y) => x - y);
  return { low: percentile(stats, alpha * 100), high: percentile(stats, (1 - alpha) * 100) };
}
