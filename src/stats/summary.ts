/** Linear-interpolated percentile (the "R-7" definition numpy and most tools use by default). */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n − 1). 0 for fewer than two values. */
export function stddev(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Coefficient of variation (stddev / mean); 0 when the mean is 0. */
export function cv(xs: readonly number[]): number {
  const m = mean(xs);
  return m === 0 ? 0 : stddev(xs) / m;
}

export function median(xs: readonly number[]): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
}

export function geomean(xs: readonly number[]): number {
  return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

export interface Summary {
  n: number;
  attempted: number;
  successRatio: number;
  min: number;
  p50: number;
  p90: number;
  p95: number;
  /** Only with at least 100 samples: fewer cannot support a 99th percentile. */
  p99?: number;
  max: number;
  mean: number;
  stddev: number;
  /** Indexes (into the successful samples, in order) beyond ±3σ: flagged, never dropped. */
  outliers: number[];
}

/** Statistics of one run's samples (seconds). `attempted` counts failed samples too. */
export function summarize(samples: readonly number[], attempted = samples.length): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const m = samples.length ? mean(samples) : NaN;
  const sd = stddev(samples);
  return {
    n: samples.length,
    attempted,
    successRatio: attempted ? samples.length / attempted : 0,
    min: sorted[0] ?? NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    p99: sorted.length >= 100 ? percentile(sorted, 99) : undefined,
    max: sorted[sorted.length - 1] ?? NaN,
    mean: m,
    stddev: sd,
    outliers: sd > 0 ? samples.flatMap((x, i) => (Math.abs(x - m) > 3 * sd ? [i] : [])) : [],
  };
}
