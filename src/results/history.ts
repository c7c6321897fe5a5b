import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { HistoryError } from './history-error.js';
import type { RunRecord } from './run-record.js';
import { inRange, type RangeQuery, type RunQuery, type RunSink } from './store.js';

export interface HistoryOptions {
  path: string;
  /** Runs that ended longer ago than this are pruned (milliseconds). */
  retentionMs: number;
  /** How often pruning runs in the background. */
  pruneEveryMs?: number;
  log?: (line: string) => void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  probe TEXT NOT NULL,
  target TEXT NOT NULL,
  success INTEGER NOT NULL,
  skipped TEXT,
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_ended ON runs (ended_at);
CREATE INDEX IF NOT EXISTS runs_pair_ended ON runs (probe, target, ended_at);
`;

/**
 * The run history in SQLite: every run record (settings, phases, samples, statistics, failure,
 * trace id) as JSON beside the columns queries filter on. Writes are queued and flushed in a
 * batch on a later tick, so recording a run never waits on the disk or on another process's
 * lock; a busy database keeps the queue and tries again. Reads see queued runs too.
 */
export class RunHistory implements RunSink {
  private readonly db: Database.Database;
  private pending: RunRecord[] = [];
  private flushTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private closed = false;
  private readonly insert: Database.Statement;

  private constructor(private readonly opts: HistoryOptions) {
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(opts.path), { recursive: true });
      db = this.db = new Database(opts.path, { timeout: 2000 });
      // Reads the header: a file that is not a database fails here, not at the first write.
      this.db.pragma('journal_mode = WAL');
      const check = this.db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`database is corrupt (quick_check: ${String(check)})`);
      this.db.exec(SCHEMA);
      // Later writes must never wait: a lock held elsewhere makes the flush retry, not block.
      this.db.pragma('busy_timeout = 0');
      this.insert = this.db.prepare(
        'INSERT OR REPLACE INTO runs (id, probe, target, success, skipped, started_at, ended_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
    } catch (err) {
      try {
        db?.close();
      } catch {
        // already failing
      }
      throw new HistoryError(opts.path, err);
    }
  }

  /** Opens (creating) the database and starts background pruning; throws HistoryError when unusable. */
  static open(opts: HistoryOptions): RunHistory {
    const h = new RunHistory(opts);
    h.prune();
    h.pruneTimer = setInterval(() => h.prune(), opts.pruneEveryMs ?? 3_600_000);
    h.pruneTimer.unref();
    return h;
  }

  get path(): string {
    return this.opts.path;
  }

  add(run: RunRecord): void {
    if (this.closed) return;
    this.pending.push(run);
    this.scheduleFlush(0);
  }

  private scheduleFlush(ms: number): void {
    if (this.flushTimer || this.closed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, ms);
  }

  /** Writes the queued runs in one transaction; on a busy database keeps them for a later try. */
  flush(): boolean {
    if (!this.pending.length) return true;
    const batch = this.pending;
    try {
      this.db.transaction((runs: RunRecord[]) => {
        for (const r of runs)
          this.insert.run(
            r.id,
            r.probe,
            r.target,
            r.success ? 1 : 0,
            r.skipped ?? null,
            Date.parse(r.startedAt),
            Date.parse(r.endedAt),
            JSON.stringify(r),
          );
      })(batch);
      this.pending = this.pending.slice(batch.length);
      return true;
    } catch (err) {
      this.opts.log?.(`run history: ${batch.length} run(s) not written yet (${(err as Error).message}); retrying`);
      this.scheduleFlush(1000);
      return false;
    }
  }

  /** Deletes runs past the retention, a bounded batch at a time so the loop stays responsive. */
  prune(now = Date.now()): number {
    const cutoff = now - this.opts.retentionMs;
    let total = 0;
    try {
      const del = this.db.prepare(
        'DELETE FROM runs WHERE rowid IN (SELECT rowid FROM runs WHERE ended_at < ? ORDER BY ended_at LIMIT 500)',
      );
      for (;;) {
        const n = del.run(cutoff).changes;
        total += n;
        if (n < 500) break;
      }
    } catch (err) {
      this.opts.log?.(`run history: pruning failed (${(err as Error).message}); trying again later`);
    }
    return total;
  }

  get(id: string): RunRecord | undefined {
    const queued = this.pending.find((r) => r.id === id);
    if (queued) return queued;
    const row = this.db.prepare('SELECT record FROM runs WHERE id = ?').get(id) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as RunRecord) : undefined;
  }

  /** Newest first. */
  list(q: RunQuery = {}): RunRecord[] {
    const limit = q.limit ?? 100;
    const match = (r: RunRecord) =>
      (!q.probe || r.probe === q.probe) &&
      (!q.target || r.target === q.target) &&
      (q.success === undefined || r.success === q.success) &&
      (q.skipped === undefined || (r.skipped !== undefined) === q.skipped);
    const queued = this.pending.filter(match).reverse();
    const where: string[] = [];
    const args: unknown[] = [];
    const cond = (sql: string, ...values: unknown[]) => {
      where.push(sql);
      args.push(...values);
    };
    if (q.probe) cond('probe = ?', q.probe);
    if (q.target) cond('target = ?', q.target);
    if (q.success !== undefined) cond('success = ?', q.success ? 1 : 0);
    if (q.skipped !== undefined) cond(q.skipped ? 'skipped IS NOT NULL' : 'skipped IS NULL');
    const rows = this.db
      .prepare(
        `SELECT record FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ended_at DESC, rowid DESC LIMIT ?`,
      )
      .all(...args, limit) as { record: string }[];
    const ids = new Set(queued.map((r) => r.id));
    const stored = rows.map((r) => JSON.parse(r.record) as RunRecord).filter((r) => !ids.has(r.id));
    return [...queued, ...stored].slice(0, limit);
  }

  /** Oldest first: every run that ended in [since, until), for reports and sparklines. */
  range(q: RangeQuery = {}): RunRecord[] {
    const where = ['ended_at >= ?', 'ended_at < ?'];
    const args: unknown[] = [q.since ?? 0, q.until ?? Number.MAX_SAFE_INTEGER];
    const within = (column: string, values: readonly string[] | undefined) => {
      if (!values?.length) return;
      where.push(`${column} IN (${values.map(() => '?').join(',')})`);
      args.push(...values);
    };
    within('target', q.targets);
    within('probe', q.probes);
    const rows = this.db
      .prepare(`SELECT record FROM runs WHERE ${where.join(' AND ')} ORDER BY ended_at, rowid`)
      .all(...args) as { record: string }[];
    const stored = rows.map((r) => JSON.parse(r.record) as RunRecord);
    const ids = new Set(stored.map((r) => r.id));
    const queued = this.pending.filter((r) => !ids.has(r.id) && inRange(r, q));
    return [...stored, ...queued];
  }

  /** Last run per probe × target. */
  latest(): Map<string, RunRecord> {
    const rows = this.db
      .prepare(
        'SELECT r.record FROM runs r JOIN (SELECT probe, target, max(ended_at) AS e FROM runs GROUP BY probe, target) l ON r.probe = l.probe AND r.target = l.target AND r.ended_at = l.e',
      )
      .all() as { record: string }[];
    const m = new Map<string, RunRecord>();
    for (const row of rows) {
      const r = JSON.parse(row.record) as RunRecord;
      m.set(`${r.probe}\u0000${r.target}`, r);
    }
    for (const r of this.pending) m.set(`${r.probe}\u0000${r.target}`, r);
    return m;
  }

  /** Flushes what is queued (waiting up to `waitMs` for a lock held elsewhere) and closes. */
  async close(waitMs = 5000): Promise<void> {
    if (this.closed) return;
    clearTimeout(this.flushTimer);
    clearInterval(this.pruneTimer);
    this.flushTimer = undefined;
    const deadline = Date.now() + waitMs;
    while (!this.flush() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    clearTimeout(this.flushTimer);
    if (this.pending.length)
      this.opts.log?.(`run history: ${this.pending.length} run(s) lost: ${this.opts.path} stayed locked`);
    this.closed = true;
    this.db.close();
  }
}
