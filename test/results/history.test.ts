import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Exporter } from '../../src/app/exporter.js';
import { RunHistory } from '../../src/results/history.js';
import type { RunRecord } from '../../src/results/run-record.js';
import { makeRunner, okProbe, probeConfig, target, waitFor } from '../helpers/fake-probes.js';

// The whole exporter with probes whose results the test controls.
vi.mock('../../probes/index.js', async () => {
  const fakes = await import('../helpers/fake-probes.js');
  return { ALL_PROBES: fakes.FAKE_PROBES, probeByName: (n: string) => fakes.FAKE_PROBES.find((p) => p.name === n) };
});

const dir = mkdtempSync(join(tmpdir(), 'e2bbench-history-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configWith(db: string, extra = ''): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(
    file,
    `server: { listen: "127.0.0.1:0" }
history: { path: ${JSON.stringify(db)}${extra} }
targets: [{ name: a, cloud_provider: local, cloud_region: r1, e2b: { api_url: "http://127.0.0.1:9", sandbox_url: "http://127.0.0.1:9" } }]
probes: { fake.ok: { value: 7 } }
`,
  );
  return file;
}

const start = (file: string) => Exporter.start({ configFile: file, schedule: false });

function fakeRun(id: string, endedAt: Date): RunRecord {
  return {
    id,
    probe: 'fake.ok',
    target: 'a',
    trigger: 'cli',
    startedAt: endedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    durationSeconds: 0.1,
    success: true,
    traceId: '0'.repeat(32),
    phases: [],
    logs: [],
    details: {},
    metrics: [],
    settings: { intervalSeconds: 60, timeoutSeconds: 5, samples: 1, options: {} },
  };
}

describe('run history in SQLite', () => {
  it('survives a restart: /api/runs and /api/runs/{id} serve runs of the previous process', async () => {
    const db = join(dir, 'restart.sqlite');
    const file = configWith(db);
    let exp = await start(file);
    const t = exp.targets[0];
    const run = await exp.runner.run({ ...exp.config.probes.get('fake.ok')!, enabled: true }, t, { trigger: 'cli' });
    await exp.stop();

    exp = await start(file);
    try {
      const base = `http://${exp.address}`;
      const list = (await (await fetch(`${base}/api/runs`)).json()) as { runs: { id: string; traceId: string }[] };
      expect(list.runs.map((r) => r.id)).toContain(run.id);
      const one = (await (await fetch(`${base}/api/runs/${run.id}`)).json()) as RunRecord;
      expect(one.traceId).toBe(run.traceId);
      expect(one.metrics).toContainEqual(expect.objectContaining({ name: 'e2bbench_cpu_events_per_second', value: 7 }));
      expect(one.settings.options).toEqual({ value: 7 });
    } finally {
      await exp.stop();
    }
  });

  it('prunes runs past the retention, at start-up and when pruning runs', async () => {
    const path = join(dir, 'retention.sqlite');
    const h = RunHistory.open({ path, retentionMs: 3_600_000 });
    const now = Date.now();
    h.add(fakeRun('old', new Date(now - 2 * 3_600_000)));
    h.add(fakeRun('new', new Date(now - 60_000)));
    h.flush();
    expect(h.list().map((r) => r.id)).toEqual(['new', 'old']);
    expect(h.prune()).toBe(1);
    expect(h.list().map((r) => r.id)).toEqual(['new']);
    h.add(fakeRun('older', new Date(now - 3 * 3_600_000)));
    await h.close();
    const reopened = RunHistory.open({ path, retentionMs: 3_600_000 });
    expect(reopened.list().map((r) => r.id)).toEqual(['new']);
    await reopened.close();
  });

  it('lists failed runs apart from skipped ones, queued or stored', async () => {
    const h = RunHistory.open({ path: join(dir, 'skipped.sqlite'), retentionMs: 3_600_000 });
    const now = Date.now();
    const at = (id: string, ago: number, extra: Partial<RunRecord>) =>
      h.add({ ...fakeRun(id, new Date(now - ago)), ...extra });
    at('ok', 4000, {});
    at('failed', 3000, { success: false, reason: 'parse_error' });
    at('skipped', 2000, { success: false, skipped: 'not_configured' });
    const check = () => {
      expect(h.list({ success: false }).map((r) => r.id)).toEqual(['skipped', 'failed']);
      expect(h.list({ success: false, skipped: false }).map((r) => r.id)).toEqual(['failed']);
      expect(h.list({ skipped: true }).map((r) => r.id)).toEqual(['skipped']);
      expect(h.list({ skipped: false }).map((r) => r.id)).toEqual(['failed', 'ok']);
    };
    try {
      check(); // still queued
      h.flush();
      check(); // from SQLite
    } finally {
      await h.close();
    }
  });

  it('a corrupt file fails start-up with a message naming it', async () => {
    const db = join(dir, 'corrupt.sqlite');
    writeFileSync(db, 'this is not a database, just text long enough to have a header '.repeat(20));
    await expect(start(configWith(db))).rejects.toThrow(new RegExp(`run history ${db}: .*not a database`));
  });

  it('a database locked by another process fails start-up with a message naming it', async () => {
    const db = join(dir, 'locked.sqlite');
    const other = new Database(db);
    other.pragma('locking_mode = EXCLUSIVE');
    other.exec('CREATE TABLE hold (x); BEGIN EXCLUSIVE; INSERT INTO hold VALUES (1)');
    try {
      await expect(start(configWith(db))).rejects.toThrow(new RegExp(`run history ${db}: .*locked`));
    } finally {
      other.exec('COMMIT');
      other.close();
    }
  });

  it.runIf(process.getuid?.() !== 0)(
    'an unwritable directory fails start-up with a message naming the file',
    async () => {
      const roDir = mkdtempSync(join(dir, 'ro-'));
      chmodSync(roDir, 0o500);
      const db = join(roDir, 'h.sqlite');
      await expect(start(configWith(db))).rejects.toThrow(new RegExp(`run history ${db}: `));
    },
  );

  it('a path under a regular file fails start-up with a message naming it', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const db = join(file, 'h.sqlite');
    await expect(start(configWith(db))).rejects.toThrow(new RegExp(`run history ${db}: `));
  });

  it('recording a run does not wait for a lock held elsewhere: the run is queued, readable, and lands later', async () => {
    const path = join(dir, 'busy.sqlite');
    const history = RunHistory.open({ path, retentionMs: 86_400_000 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE'); // another writer holds the write lock
    try {
      const { runner } = makeRunner({ store: history });
      const run = await runner.run(probeConfig(okProbe), target('a'), { trigger: 'cli' });
      // The probe's run finished and is visible through the history while the lock is still held.
      expect(history.get(run.id)?.traceId).toBe(run.traceId);
      expect(history.list().map((r) => r.id)).toContain(run.id);
      await new Promise((r) => setTimeout(r, 50));
      const count = () => (other.prepare('SELECT count(*) AS n FROM runs WHERE id = ?').get(run.id) as { n: number }).n;
      expect(count()).toBe(0);
      other.exec('COMMIT');
      await waitFor(() => count() === 1, 5000, 'the queued run to be written');
    } finally {
      if (other.inTransaction) other.exec('COMMIT');
      other.close();
      await history.close();
    }
  });
});
