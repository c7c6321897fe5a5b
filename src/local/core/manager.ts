import { ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { DriverSandbox, NetworkMode, PhaseRunner, SandboxDriver, SandboxSpec } from '../driver/types.js';
import { ProcessTable } from '../envd/processes.js';
import { WatcherTable } from '../envd/watchers.js';
import type { EnvdDirectory } from '../envd/types.js';
import type { LocalMetrics } from '../telemetry/metrics.js';
import type { RuntimeTracing } from '../telemetry/tracing.js';
import { ApiError, notFound } from './errors.js';
import type { Faults } from './faults.js';
import { randomId, randomToken } from './ids.js';
import { MetricHistory, type MetricSample } from './metric-history.js';
import { WarmPool, type PooledSandbox } from './pool.js';
import type { SandboxRecord, SnapshotRecord, RuntimeStartType } from './records.js';
import type { ResolvedTemplate, TemplateProvider } from './templates.js';

export interface ManagerOptions {
  driver: SandboxDriver;
  templates: TemplateProvider;
  dataDir: string;
  network: NetworkMode;
  maxSandboxes: number;
  maxMemoryMb?: number;
  defaultTimeoutSec: number;
  maxTimeoutSec: number;
  poolSize: (template: string) => number;
  /** Longest a pool refill waits for the first command of the sandbox that took from the pool. */
  poolRefillDeferMs?: number;
  tracing: RuntimeTracing;
  metrics: LocalMetrics;
  faults: Faults;
  log: (msg: string) => void;
}

export interface CreateRequest {
  templateID: string;
  metadata?: Record<string, string>;
  envVars?: Record<string, string>;
  /** Seconds. */
  timeout?: number;
  autoPause?: boolean;
  /** False: the timeout's pause keeps the filesystem only. */
  autoPauseMemory?: boolean;
  /** Internal (fork): start from this snapshot, whatever `templateID` says. */
  snapshot?: SnapshotRecord;
}

/** One fork's outcome, as `POST /sandboxes/{id}/fork` reports each. */
export type ForkResult = { sandbox: SandboxRecord } | { error: { code: number; message: string } };

/** How often a running sandbox's metrics are sampled into its history (E2B samples every few seconds). */
export const METRICS_INTERVAL_MS = 5_000;

/** Errors from template providers carry an HTTP-like numeric `code` (404 unknown, 503 not built). */
export function statusOf(err: unknown): number {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' && code >= 400 && code < 600 ? code : 500;
}

export type KillReason = 'api' | 'timeout' | 'crash' | 'shutdown';

interface SnapshotEntry extends SnapshotRecord {
  refs: number;
  deleted: boolean;
}

/** Sandbox lifecycle: create (cold / warm / restore), timeouts, pause, snapshots, capacity, kill. */
export class SandboxManager implements EnvdDirectory {
  private records = new Map<string, SandboxRecord>();
  private snapshots = new Map<string, SnapshotEntry>();
  private pending = { count: 0, memoryMb: 0 };
  readonly pool: WarmPool;
  private stopping = false;

  constructor(private readonly o: ManagerOptions) {
    this.pool = new WarmPool({
      sizeFor: (t) => o.poolSize(t),
      start: (t) => this.startPooled(t),
      destroy: (p) => this.destroyPooled(p),
      onChange: (t, n) => o.metrics.poolSandboxes.set({ template: t }, n),
      onError: (t, err) => o.log(`warm pool for ${t}: ${(err as Error).message}`),
    });
  }

  lookup(sandboxId: string): SandboxRecord | undefined {
    return this.records.get(sandboxId);
  }

  get(sandboxId: string): SandboxRecord {
    const r = this.records.get(sandboxId);
    if (!r) throw notFound(`sandbox ${sandboxId}`);
    return r;
  }

  all(): SandboxRecord[] {
    return [...this.records.values()];
  }

  usedMemoryMb(): number {
    let m = this.pending.memoryMb;
    for (const r of this.records.values()) m += r.memoryMb;
    return m;
  }

  private spec(template: ResolvedTemplate, layers: string[], checkpointDir?: string, background = false): SandboxSpec {
    return {
      id: randomId(12),
      lowerDirs: [...layers, ...(template.layers ?? [template.rootfs])],
      binds: template.binds,
      cpuCount: template.cpuCount,
      memoryMb: template.memoryMb,
      network: this.o.network,
      checkpointDir,
      background,
    };
  }

  private async startPooled(name: string): Promise<PooledSandbox> {
    const phase = this.o.tracing.phases(ROOT_CONTEXT);
    const template = await this.o.templates.ensure(name, phase);
    try {
      const sandbox = await this.o.driver.create(this.spec(template, [], undefined, true), phase);
      return { template, sandbox, dead: false };
    } catch (err) {
      template.release?.();
      throw err;
    }
  }

  private async destroyPooled(p: PooledSandbox): Promise<void> {
    try {
      await this.o.driver.kill(p.sandbox);
    } finally {
      p.template.release?.();
    }
  }

  private findSnapshot(idOrName: string): SnapshotEntry | undefined {
    const direct = this.snapshots.get(idOrName);
    if (direct && !direct.deleted) return direct;
    for (const s of this.snapshots.values()) if (!s.deleted && s.names.includes(idOrName)) return s;
    return undefined;
  }

  private checkMemory(memoryMb: number): void {
    const max = this.o.maxMemoryMb;
    if (max !== undefined && this.usedMemoryMb() + memoryMb > max) {
      throw new ApiError(
        503,
        `not enough memory on the node: ${this.usedMemoryMb()} of ${max} MiB in use, ${memoryMb} MiB requested`,
      );
    }
  }

  async create(req: CreateRequest, parent: Context = ROOT_CONTEXT): Promise<SandboxRecord> {
    if (this.stopping) throw new ApiError(503, 'runtime is shutting down');
    const started = performance.now();
    let startType: RuntimeStartType | 'unknown' = 'unknown';
    try {
      await this.o.faults.beforeCreate();
      if (this.records.size + this.pending.count >= this.o.maxSandboxes) {
        throw new ApiError(429, `You have reached the maximum number of concurrent sandboxes (${this.o.maxSandboxes})`);
      }
      const templateID = req.templateID || 'base';
      const snapshot = req.snapshot ? this.snapshots.get(req.snapshot.snapshotId) : this.findSnapshot(templateID);
      if (!snapshot && !(await this.o.templates.names()).includes(templateID))
        throw notFound(`template '${templateID}'`);
      this.pending.count++;
      let reservedMb = 0;
      const reserve = (mb: number) => {
        this.checkMemory(mb);
        reservedMb = mb;
        this.pending.memoryMb += mb;
      };
      try {
        const record = await this.o.tracing.operation(
          'sandbox.create',
          parent,
          { 'e2b.template': templateID, 'e2blocal.driver': this.o.driver.name },
          async (phase) => {
            let template: ResolvedTemplate;
            let sandbox: DriverSandbox;
            let layers: string[] = [];
            if (snapshot) {
              reserve(snapshot.memoryMb);
              startType = 'restore';
              snapshot.refs++;
              try {
                template = await this.o.templates.ensure(snapshot.baseTemplate, phase);
                layers = snapshot.layers;
                const spec = this.spec(template, layers, snapshot.checkpointDir);
                sandbox = await phase('restore', () => this.o.driver.create(spec, phase));
              } catch (err) {
                this.releaseSnapshot(snapshot);
                throw err;
              }
            } else {
              const pooled = this.pool.claim(templateID);
              if (pooled) {
                startType = 'warm';
                reserve(pooled.template.memoryMb);
                template = pooled.template;
                sandbox = pooled.sandbox;
                await this.o.driver.foreground(sandbox);
              } else {
                template = await this.o.templates.ensure(templateID, phase);
                startType = template.cold ? 'cold' : 'cached';
                try {
                  reserve(template.memoryMb);
                  sandbox = await this.o.driver.create(this.spec(template, []), phase);
                } catch (err) {
                  template.release?.();
                  throw err;
                }
              }
            }
            return this.register(req, templateID, template, sandbox, layers, startType as RuntimeStartType, snapshot);
          },
        );
        if (!snapshot) this.refillAfterFirstCommand(record, templateID);
        this.o.metrics.creates.inc({ start_type: record.startType, result: 'ok' });
        this.o.metrics.createSeconds.observe({ start_type: record.startType }, (performance.now() - started) / 1000);
        return record;
      } finally {
        this.pending.count--;
        this.pending.memoryMb -= reservedMb;
      }
    } catch (err) {
      const status = err instanceof ApiError ? err.status : statusOf(err);
      const result =
        status === 429 ? 'rate_limited' : status === 503 ? 'capacity' : status === 404 ? 'not_found' : 'error';
      this.o.metrics.creates.inc({ start_type: startType, result });
      throw err;
    }
  }

  /**
   * Tops the pool up once the new sandbox's first command has ended (or it is gone, or a second
   * has passed, by default): on a small machine a refill started at once competes with that command for the
   * CPU, and the start the caller measures is create → first command.
   */
  private refillAfterFirstCommand(record: SandboxRecord, templateID: string): void {
    let timer: NodeJS.Timeout | undefined;
    const gone = new Promise<void>((r) => record.gone.addEventListener('abort', () => r(), { once: true }));
    void Promise.race([
      record.processes.firstDone,
      gone,
      new Promise<void>((r) => (timer = setTimeout(r, this.o.poolRefillDeferMs ?? 1_000))),
    ]).then(() => {
      clearTimeout(timer);
      void this.pool.refill(templateID);
    });
  }

  private register(
    req: CreateRequest,
    templateID: string,
    template: ResolvedTemplate,
    sandbox: DriverSandbox,
    layers: string[],
    startType: RuntimeStartType,
    snapshot: SnapshotEntry | undefined,
  ): SandboxRecord {
    const now = new Date();
    const gone = new AbortController();
    const record: SandboxRecord = {
      sandboxId: randomId(20),
      templateId: templateID,
      baseTemplate: template.name,
      accessToken: randomToken(),
      state: 'running',
      startedAt: now,
      endAt: now,
      cpuCount: template.cpuCount,
      memoryMb: template.memoryMb,
      metadata: { ...(req.metadata ?? {}) },
      envVars: { ...(req.envVars ?? {}) },
      defaultUser: snapshot?.defaultUser ?? template.user,
      driver: this.o.driver,
      driverSandbox: sandbox,
      processes: new ProcessTable(this.o.driver, sandbox),
      watchers: new WatcherTable(),
      gone: gone.signal,
      markGone: () => gone.abort(),
      metricHistory: new MetricHistory(),
      snapshotLayers: layers,
      startType,
      autoPause: req.autoPause === true,
      autoPauseMemory: req.autoPauseMemory !== false,
      template,
      heldSnapshots: [],
      releaseTemplate: () => {
        template.release?.();
        if (snapshot) this.releaseSnapshot(snapshot);
      },
    };
    this.records.set(record.sandboxId, record);
    this.setTimer(record, req.timeout ?? this.o.defaultTimeoutSec);
    record.sampler = setInterval(() => {
      if (record.state === 'running') void this.sample(record).catch(() => undefined);
    }, METRICS_INTERVAL_MS);
    record.sampler.unref();
    this.watchExit(record, sandbox);
    this.updateGauges();
    return record;
  }

  /** A sandbox whose processes die behind our back is gone (not one stopped by a filesystem-only pause). */
  private watchExit(record: SandboxRecord, sandbox: DriverSandbox): void {
    void sandbox.exited.then(() => {
      if (
        this.records.get(record.sandboxId) === record &&
        record.driverSandbox === sandbox &&
        !record.fsPause &&
        !this.stopping
      ) {
        this.o.log(`sandbox ${record.sandboxId} died`);
        void this.kill(record.sandboxId, 'crash').catch(() => undefined);
      }
    });
  }

  private setTimer(record: SandboxRecord, seconds: number): void {
    if (record.timer) clearTimeout(record.timer);
    const s = Math.min(Math.max(0, seconds), this.o.maxTimeoutSec);
    record.endAt = new Date(Date.now() + s * 1000);
    record.timer = setTimeout(() => void this.expire(record.sandboxId), s * 1000);
    record.timer.unref();
  }

  private async expire(sandboxId: string): Promise<void> {
    const r = this.records.get(sandboxId);
    if (!r || r.state !== 'running') return;
    try {
      if (r.autoPause) await this.pause(sandboxId, ROOT_CONTEXT, r.autoPauseMemory);
      else await this.kill(sandboxId, 'timeout');
    } catch (err) {
      this.o.log(`timeout of ${sandboxId}: ${(err as Error).message}`);
    }
  }

  setTimeoutSec(sandboxId: string, seconds: number): void {
    const r = this.get(sandboxId);
    if (r.state === 'running') this.setTimer(r, seconds);
    else r.endAt = new Date(Date.now() + seconds * 1000);
  }

  async kill(sandboxId: string, reason: KillReason = 'api'): Promise<void> {
    const r = this.get(sandboxId);
    this.records.delete(sandboxId);
    if (r.timer) clearTimeout(r.timer);
    this.updateGauges();
    this.o.metrics.kills.inc({ reason });
    r.watchers.closeAll();
    clearInterval(r.sampler);
    r.markGone();
    try {
      if (!r.fsPause) {
        await this.o.driver.kill(r.driverSandbox);
        await r.processes.reaped();
      }
    } finally {
      r.releaseTemplate?.();
      for (const s of r.heldSnapshots) this.releaseSnapshot(this.snapshots.get(s.snapshotId)!);
    }
  }

  /** Kill the sandbox's processes behind the control plane's back (fault injection). */
  crash(sandboxId: string): void {
    const r = this.get(sandboxId);
    r.processes.killAll();
    this.o.driver.killSync(r.driverSandbox);
  }

  /**
   * Pause. With memory (default): the driver's pause (freezer or checkpoint). Without
   * (`keepMemory: false`): a filesystem-only pause as E2B's: the sandbox's writes are kept as a
   * layer, its processes end, and resume boots it again on that layer.
   */
  async pause(sandboxId: string, parent: Context = ROOT_CONTEXT, keepMemory = true): Promise<void> {
    const r = this.get(sandboxId);
    if (r.state === 'paused') throw new ApiError(409, `sandbox ${sandboxId} is already paused`);
    if (keepMemory) {
      await this.o.tracing.operation(
        'sandbox.pause',
        parent,
        { 'e2blocal.pause_kind': this.o.driver.pauseKind },
        (phase) => this.o.driver.pause(r.driverSandbox, phase),
      );
    } else {
      await this.o.tracing.operation(
        'sandbox.pause',
        parent,
        { 'e2blocal.pause_kind': 'filesystem' },
        async (phase) => {
          const snap = await this.snapshotEntry(r, undefined, phase);
          // Not listed nor usable as a template: the layer belongs to this sandbox alone.
          snap.deleted = true;
          snap.refs++;
          r.heldSnapshots.push(snap);
          r.fsPause = snap;
          r.watchers.closeAll();
          r.processes.killAll();
          await phase('stop', () => this.o.driver.kill(r.driverSandbox));
          await r.processes.reaped();
        },
      );
    }
    if (r.timer) clearTimeout(r.timer);
    r.state = 'paused';
    this.updateGauges();
  }

  /** Resume a paused sandbox, or extend a running one's timeout (never shortens it). */
  async connect(
    sandboxId: string,
    timeoutSec: number | undefined,
    parent: Context = ROOT_CONTEXT,
  ): Promise<{ record: SandboxRecord; resumed: boolean }> {
    const r = this.get(sandboxId);
    if (r.state === 'paused') {
      const fsPause = r.fsPause;
      await this.o.tracing.operation(
        'sandbox.resume',
        parent,
        { 'e2blocal.pause_kind': fsPause ? 'filesystem' : this.o.driver.pauseKind },
        async (phase) => {
          if (!fsPause) return this.o.driver.resume(r.driverSandbox, phase);
          const sandbox = await phase('reboot', () =>
            this.o.driver.create(this.spec(r.template, fsPause.layers), phase),
          );
          r.driverSandbox = sandbox;
          r.processes = new ProcessTable(this.o.driver, sandbox);
          r.snapshotLayers = fsPause.layers;
          r.fsPause = undefined;
          this.watchExit(r, sandbox);
        },
      );
      r.state = 'running';
      this.setTimer(r, timeoutSec ?? this.o.defaultTimeoutSec);
      this.updateGauges();
      return { record: r, resumed: true };
    }
    if (timeoutSec !== undefined && Date.now() + timeoutSec * 1000 > r.endAt.getTime()) this.setTimer(r, timeoutSec);
    return { record: r, resumed: false };
  }

  async snapshot(sandboxId: string, name: string | undefined, parent: Context = ROOT_CONTEXT): Promise<SnapshotRecord> {
    const r = this.get(sandboxId);
    if (name !== undefined && this.findSnapshot(name)) throw new ApiError(409, `a snapshot named '${name}' exists`);
    if (r.fsPause) throw new ApiError(409, `sandbox ${sandboxId} is paused without memory; connect to it first`);
    return this.o.tracing.operation('sandbox.snapshot', parent, { 'e2b.sandbox_id': sandboxId }, (phase) =>
      this.snapshotEntry(r, name, phase),
    );
  }

  private async snapshotEntry(r: SandboxRecord, name: string | undefined, phase: PhaseRunner): Promise<SnapshotEntry> {
    const snapshotId = `snap-${randomId(16)}`;
    const dir = path.join(this.o.dataDir, 'snapshots', snapshotId);
    const result = await this.o.driver.snapshot(r.driverSandbox, dir, phase);
    const entry: SnapshotEntry = {
      snapshotId,
      names: name ? [name] : [],
      sandboxId: r.sandboxId,
      baseTemplate: r.baseTemplate,
      layers: [result.layerDir, ...r.snapshotLayers],
      checkpointDir: result.checkpointDir,
      cpuCount: r.cpuCount,
      memoryMb: r.memoryMb,
      defaultUser: r.defaultUser,
      createdAt: new Date(),
      bytes: result.bytes,
      dir,
      refs: 0,
      deleted: false,
    };
    // A snapshot's layers include its parent's: keep the parent alive while this one exists.
    const parentSnap = this.snapshotWithTopLayer(r.snapshotLayers[0]);
    if (parentSnap) parentSnap.refs++;
    this.snapshots.set(snapshotId, entry);
    this.updateGauges();
    return entry;
  }

  /**
   * Fork: one snapshot of the running sandbox (filesystem, and memory where the driver
   * checkpoints), `count` sandboxes started from it, each succeeding or failing on its own.
   */
  async fork(
    sandboxId: string,
    count: number,
    timeoutSec: number | undefined,
    parent: Context = ROOT_CONTEXT,
  ): Promise<ForkResult[]> {
    const r = this.get(sandboxId);
    if (r.state !== 'running') throw new ApiError(409, `sandbox ${sandboxId} is not running`);
    const snap = await this.o.tracing.operation('sandbox.fork', parent, { 'e2b.sandbox_id': sandboxId }, (phase) =>
      this.snapshotEntry(r, undefined, phase),
    );
    // Not listed: the snapshot lives as long as a fork uses it.
    snap.deleted = true;
    snap.refs++;
    try {
      const settled = await Promise.allSettled(
        Array.from({ length: count }, () =>
          this.create(
            { templateID: r.templateId, snapshot: snap, timeout: timeoutSec, metadata: r.metadata, envVars: r.envVars },
            parent,
          ),
        ),
      );
      return settled.map((s) =>
        s.status === 'fulfilled'
          ? { sandbox: s.value }
          : {
              error: {
                code: s.reason instanceof ApiError ? s.reason.status : statusOf(s.reason),
                message: (s.reason as Error).message,
              },
            },
      );
    } finally {
      this.releaseSnapshot(snap);
    }
  }

  listSnapshots(): SnapshotRecord[] {
    return [...this.snapshots.values()].filter((s) => !s.deleted);
  }

  async deleteSnapshot(idOrName: string): Promise<void> {
    const s = this.findSnapshot(idOrName);
    if (!s) {
      if ((await this.o.templates.names()).includes(idOrName))
        throw new ApiError(400, `template '${idOrName}' is provided by the template store and cannot be deleted here`);
      throw notFound(`snapshot '${idOrName}'`);
    }
    s.deleted = true;
    await this.maybeRemoveSnapshot(s);
  }

  private snapshotWithTopLayer(layer: string | undefined): SnapshotEntry | undefined {
    if (layer === undefined) return undefined;
    for (const s of this.snapshots.values()) if (s.layers[0] === layer) return s;
    return undefined;
  }

  private releaseSnapshot(s: SnapshotEntry): void {
    s.refs--;
    void this.maybeRemoveSnapshot(s);
  }

  private async maybeRemoveSnapshot(s: SnapshotEntry): Promise<void> {
    if (!s.deleted || s.refs > 0 || !this.snapshots.has(s.snapshotId)) return;
    this.snapshots.delete(s.snapshotId);
    const parentSnap = this.snapshotWithTopLayer(s.layers[1]);
    if (parentSnap) this.releaseSnapshot(parentSnap);
    await rm(s.dir, { recursive: true, force: true });
    this.updateGauges();
  }

  /**
   * Samples of the sandbox within [start, end] (Unix seconds, both optional), from its history
   * (one sample every METRICS_INTERVAL_MS while it runs) plus a fresh one when `now` is in range.
   */
  async metrics(sandboxId: string, start?: number, end?: number): Promise<MetricSample[]> {
    const r = this.get(sandboxId);
    const now = Math.floor(Date.now() / 1000);
    if (r.state === 'running' && (start === undefined || start <= now) && (end === undefined || end >= now))
      await this.sample(r);
    return r.metricHistory.between(start, end);
  }

  private async sample(r: SandboxRecord): Promise<void> {
    const stats = await this.o.driver.stats(r.driverSandbox);
    const now = Date.now();
    const prev = r.lastCpu ?? { atMs: r.startedAt.getTime(), usageUsec: 0 };
    const wallUsec = Math.max(1, (now - prev.atMs) * 1000);
    const cpuUsedPct = Math.min(
      100,
      Math.max(0, ((stats.cpuUsageUsec - prev.usageUsec) / (wallUsec * r.cpuCount)) * 100),
    );
    r.lastCpu = { atMs: now, usageUsec: stats.cpuUsageUsec };
    let diskTotal = 0;
    try {
      const fs = await statfs(this.o.dataDir);
      diskTotal = fs.blocks * fs.bsize;
    } catch {
      // unknown
    }
    r.metricHistory.push({
      timestamp: new Date(now).toISOString(),
      timestampUnix: Math.floor(now / 1000),
      cpuCount: r.cpuCount,
      cpuUsedPct: Math.round(cpuUsedPct * 100) / 100,
      memUsed: stats.memoryBytes,
      memTotal: stats.memoryLimitBytes ?? r.memoryMb * 1024 * 1024,
      memCache: stats.memoryCacheBytes,
      diskUsed: stats.diskUsedBytes,
      diskTotal,
    });
  }

  private updateGauges(): void {
    let running = 0;
    let paused = 0;
    for (const r of this.records.values()) {
      if (r.state === 'running') running++;
      else paused++;
    }
    this.o.metrics.sandboxes.set({ state: 'running' }, running);
    this.o.metrics.sandboxes.set({ state: 'paused' }, paused);
    let bytes = 0;
    for (const s of this.snapshots.values()) bytes += s.bytes;
    this.o.metrics.snapshotBytes.set(bytes);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.pool.stop();
    await Promise.all(
      [...this.records.keys()].map((id) =>
        this.kill(id, 'shutdown').catch((err) => this.o.log(`stop ${id}: ${(err as Error).message}`)),
      ),
    );
    for (const s of this.snapshots.values()) await rm(s.dir, { recursive: true, force: true });
    this.snapshots.clear();
  }

  /** Synchronous, best effort: kill every sandbox (pooled too), unmount, remove cgroups. */
  stopSync(): void {
    this.stopping = true;
    for (const p of this.pool.all()) this.o.driver.killSync(p.sandbox);
    for (const r of this.records.values()) {
      if (r.timer) clearTimeout(r.timer);
      clearInterval(r.sampler);
      this.o.driver.killSync(r.driverSandbox);
    }
    this.records.clear();
  }
}
