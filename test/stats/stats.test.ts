import { describe, expect, it } from 'vitest';
import { cv, geomean, percentile, stddev, summarize } from '../../src/stats/summary.js';

describe('summary statistics', () => {
  it('interpolates percentiles linearly between ranks', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(xs, 50)).toBeCloseTo(5.5);
    expect(percentile(xs, 90)).toBeCloseTo(9.1);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile(xs, 100)).toBe(10);
  });

  it('uses the sample standard deviation', () => {
    expect(stddev([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.138, 3);
    expect(stddev([3])).toBe(0);
    expect(cv([10, 10, 10])).toBe(0);
    expect(geomean([1, 4, 16])).toBeCloseTo(4);
  });

  it('reports p99 only from 100 samples on', () => {
    const few = summarize(Array.from({ length: 99 }, (_, i) => i));
    const many = summarize(Array.from({ length: 100 }, (_, i) => i));
    expect(few.p99).toBeUndefined();
    expect(many.p99).toBeCloseTo(98.01);
  });

  it('flags samples beyond ±3σ without dropping them', () => {
    const xs = [...Array.from({ length: 30 }, () => 1 + Math.random() * 0.01), 50];
    const s = summarize(xs);
    expect(s.outliers).toEqual([30]);
    expect(s.n).toBe(31);
    expect(s.max).toBe(50);
  });

  it('counts failed samples in the success ratio', () => {
    const s = summarize([1, 2, 3], 4);
    expect(s.successRatio).toBe(0.75);
    expect(s.attempted).toBe(4);
  });
});
