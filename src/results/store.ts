import type { RunRecord } from './run-record.js';

export interface RunQuery {
  probe?: string;
  target?: string;
  success?: boolean;
  limit?: number;
}

/** Recent run history, newest first. Bounded so a long-running exporter keeps flat memory. */
export class RunStore {
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
      out.push(r);
      if (out.length >= (q.limit ?? 100)) break;
    }
    return out;
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
