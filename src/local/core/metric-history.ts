/** One metrics sample of a sandbox, as `GET /sandboxes/{id}/metrics` returns it. */
export interface MetricSample {
  timestamp: string;
  timestampUnix: number;
  cpuCount: number;
  cpuUsedPct: number;
  memUsed: number;
  memTotal: number;
  memCache: number;
  diskUsed: number;
  diskTotal: number;
}

/** A bounded, time-ordered history of one sandbox's samples (oldest dropped first; pure). */
export class MetricHistory {
  private samples: MetricSample[] = [];

  constructor(private readonly max = 120) {}

  push(s: MetricSample): void {
    this.samples.push(s);
    if (this.samples.length > this.max) this.samples.splice(0, this.samples.length - this.max);
  }

  /** Samples with `start <= timestampUnix <= end` (seconds; either bound optional). */
  between(start?: number, end?: number): MetricSample[] {
    return this.samples.filter(
      (s) => (start === undefined || s.timestampUnix >= start) && (end === undefined || s.timestampUnix <= end),
    );
  }
}
