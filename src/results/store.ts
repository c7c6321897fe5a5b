import type { RunRecord } from './run-record.js';

export interface RunQuery {
  probe?: string;
  target?: string;
  /** A skipped run has success false too; false keeps only runs that ran. */
  success?: boolean;
  /** true: only skipped runs; false: only runs that ran (succeeded or failed). */
  skipped?: boolean;
  limit?: number;
}

/** Where the runner records runs and the HTTP routes read them (the SQLite history in the exporter). */
export interface RunSink {
  add(run: RunRecord): void;
  get(id: string): RunRecord | undefined;
  list(q?: RunQuery): RunRecord[];
  latest(): Map<string, RunRecord>;
  /** Oldest first: runs that ended in [since, until). */
  range(q?: RangeQuery): RunRecord[];
}

export interface RangeQuery {
  /** Inclusive lower bound of endedAt (ms since the epoch). */
  since?: number;
  /** Exclusive upper bound of endedAt. */
  until?: number;
  targets?: readonly string[];
  probes?: readonly string[];
}

/** Whether a run falls in a range query (the in-memory side of both stores). */
export function inRange(r: RunRecord, q: RangeQuery): boolean {
  const t = Date.parse(r.endedAt);
  return (
    t >= (q.since ?? 0) &&
    t < (q.until ?? Infinity) &&
    (!q.targets?.length || q.targets.includes(r.target)) &&
    (!q.probes?.length || q.probes.includes(r.probe))
  );
}

/** Recent runs in memory, newest first, bounded: for tests of the runner and routes alone. */
export class RunStore implements RunSink {
  private readonly runs: RunRecord[] = [];
  private readonly byId = new Map<string, RunRecord>();

  constructor(private readonly capacity = 1000) {}

  add(run: RunRecord): void {
    this.runs.unshift(run);
    this.byId.set(run.id, run);
    while (this.runs.length > this.capacity) this.byId.delete(this.runs.pop()!.id);
  }

  get(id: string): RunRecord | undefined {
    return this.byId.get(id);
  }

  list(q: RunQuery = {}): RunRecord[] {
    const out: RunRecord[] = [];
    for (const r of this.runs) {
      if (q.probe && r.probe !== q.probe) continue;
      if (q.target && r.target !== q.target) continue;
      if (q.success !== undefined && r.success !== q.success) continue;
      if (q.skipped !== undefined && (r.skipped !== undefined) !== q.skipped) continue;
      out.push(r);
      if (out.length >= (q.limit ?? 100)) break;
    }
    return out;
  }

  range(q: RangeQuery = {}): RunRecord[] {
    return this.runs.filter((r) => inRange(r, q)).reverse();
  }

  /** Last run per probe × target, for the status page. */
  latest(): Map<string, RunRecord> {
    const m = new Map<string, RunRecord>();
    for (const r of this.runs) {
      const k = `${r.probe}\u0000${r.target}`;
      if (!m.has(k)) m.set(k, r);
    }
    return m;
  }
}
