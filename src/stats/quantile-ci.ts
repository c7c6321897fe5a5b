/**
 * Distribution-free confidence interval of a percentile from order statistics: the narrowest pair
 * of ranks (l, u) around n·p whose binomial(n, p) mass P(l ≤ B < u) reaches the level. Undefined
 * when n is too small for any pair to reach it (e.g. a 95 % interval of p95 needs n ≥ 59).
 */
export function percentileCI(
  samples: readonly number[],
  p: number,
  level = 0.95,
): { low: number; high: number } | undefined {
  const n = samples.length;
  if (n < 2) return undefined;
  const q = p / 100;
  const sorted = [...samples].sort((a, b) => a - b);
  // cdf[k] = P(B ≤ k - 1) for B ~ Binomial(n, q), computed in log space for stability.
  const logPmf = (k: number) => lnChoose(n, k) + k * Math.log(q) + (n - k) * Math.log1p(-q);
  const cdf = [0];
  for (let k = 0; k <= n; k++) cdf.push(cdf[k] + Math.exp(logPmf(k)));
  let best: { l: number; u: number } | undefined;
  // Ranks are 1-based: the interval [x(l), x(u)] covers the quantile with probability cdf[u] - cdf[l].
  // The smallest sufficient u never decreases as l grows: one pass with two pointers.
  let u = 2;
  for (let l = 1; l < n; l++) {
    u = Math.max(u, l + 1);
    while (u <= n && cdf[u] - cdf[l] < level) u++;
    if (u > n) break;
    if (!best || u - l < best.u - best.l) best = { l, u };
  }
  return best ? { low: sorted[best.l - 1], high: sorted[best.u - 1] } : undefined;
}

function lnChoose(n: number, k: number): number {
  return lnFactorial(n) - lnFactorial(k) - lnFactorial(n - k);
}

const lnFactCache: number[] = [0];
function lnFactorial(n: number): number {
  for (let i = lnFactCache.length; i <= n; i++) lnFactCache[i] = lnFactCache[i - 1] + Math.log(i);
  return lnFactCache[n];
}
