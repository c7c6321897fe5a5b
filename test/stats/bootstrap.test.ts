import { describe, expect, it } from 'vitest';
import { bootstrapCi } from '../../src/stats/bootstrap.js';
import { percentile } from '../../src/stats/summary.js';

/** Exponential samples from a seeded generator (their true median is ln 2, p95 is ln 20). */
function exponential(n: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 48271) % 2147483647;
    return -Math.log(1 - x / 2147483647);
  });
}

describe('bootstrap confidence interval', () => {
  it('brackets the sample percentile, is reproducible, and needs two samples', () => {
    const xs = exponential(12, 7);
    const sorted = [...xs].sort((a, b) => a - b);
    const ci = bootstrapCi(xs, 50)!;
    expect(ci.low).toBeLessThanOrEqual(percentile(sorted, 50));
    expect(ci.high).toBeGreaterThanOrEqual(percentile(sorted, 50));
    expect(ci.high).toBeGreaterThan(ci.low);
    expect(bootstrapCi(xs, 50)).toEqual(ci);
    expect(bootstrapCi([1], 50)).toBeUndefined();
    // a p95 interval never leaves the range of the samples
    const ci95 = bootstrapCi(xs, 95)!;
    expect(ci95.high).toBeLessThanOrEqual(sorted[sorted.length - 1]);
  });

  it('narrows with more samples', () => {
    const width = (n: number) => {
      const ci = bootstrapCi(exponential(n, 11), 50)!;
      return ci.high - ci.low;
    };
    expect(width(400)).toBeLessThan(width(10) / 3);
  });

  it('covers the true median in about 95% of runs', () => {
    let covered = 0;
    const trials = 100;
    for (let t = 0; t < trials; t++) {
      const ci = bootstrapCi(exponential(40, 1000 + t * 7919), 50, { resamples: 1000, seed: t })!;
      if (ci.low <= Math.LN2 && Math.LN2 <= ci.high) covered++;
    }
    expect(covered).toBeGreaterThanOrEqual(85);
    expect(covered).toBeLessThan(100);
  });
});
