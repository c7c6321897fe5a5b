/** The bits of Prometheus's HTTP API the integration test uses. */

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export async function instantQuery(base: string, expr: string): Promise<Sample[]> {
  const r = await fetch(`${base}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await r.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
  if (body.status !== 'success') throw new Error(`query failed: ${body.error}: ${expr}`);
  const { resultType, result } = body.data!;
  if (resultType === 'scalar') return [{ metric: {}, value: result as [number, string] }];
  if (resultType !== 'vector') throw new Error(`unexpected result type ${resultType}: ${expr}`);
  return result as Sample[];
}

/** Data = at least one sample with a number (a histogram_quantile over an empty window is NaN). */
export function hasData(samples: Sample[]): boolean {
  return samples.some((s) => !Number.isNaN(Number(s.value[1])));
}

export interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

export async function exemplars(base: string, expr: string, sinceSeconds: number): Promise<ExemplarSeries[]> {
  const end = Date.now() / 1000;
  const params = new URLSearchParams({ query: expr, start: String(end - sinceSeconds), end: String(end) });
  const r = await fetch(`${base}/api/v1/query_exemplars?${params}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await r.json()) as { status: string; error?: string; data?: ExemplarSeries[] };
  if (body.status !== 'success') throw new Error(`exemplar query failed: ${body.error}`);
  return body.data ?? [];
}
