import { ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { createWriteStream, rmSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError, notFound } from '../core/errors.js';
import { randomId, randomToken } from '../core/ids.js';
import type { ResolvedTemplate } from '../core/templates.js';
import type { DriverSandbox, NetworkMode, SandboxDriver } from '../driver/types.js';
import type { RuntimeTracing } from '../telemetry/tracing.js';
import type { BuiltLayer, BuiltTemplate, BuiltTemplates } from './registry.js';
import type { BuildPlan, BuildRequest } from './request.js';
import { runStep, StepError, type StepContext } from './steps.js';

export type BuildStatus = 'waiting' | 'building' | 'ready' | 'error';

export interface BuildLogEntry {
  timestamp: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  step?: string;
}

interface Build {
  buildId: string;
  templateId: string;
  request: BuildRequest;
  status: BuildStatus;
  logs: BuildLogEntry[];
  reason?: { message: string; step?: string; logEntries: BuildLogEntry[] };
  createdAt: Date;
  updatedAt: Date;
  abort: AbortController;
  done?: Promise<void>;
  /** The build sandbox while it runs. */
  sandbox?: DriverSandbox;
}

export interface TemplateBuildsOptions {
  registry: BuiltTemplates;
  driver: SandboxDriver;
  /** Layers and uploads live under `<dataDir>/template-builds`. */
  dataDir: string;
  network: NetworkMode;
  tracing: RuntimeTracing;
  log: (msg: string) => void;
  /** Why this runtime cannot build templates; undefined when it can. */
  unsupported?: string;
  maxConcurrentBuilds?: number;
  buildTimeoutMs?: number;
  maxUploadBytes?: number;
}

/** E2B's build status poll returns at most this many new log lines at once. */
const LOG_PAGE = 100;

/**
 * Template builds as E2B's template API runs them, for a template based on another one: a build
 * sandbox is started from the parent template, the steps run in it (RUN, COPY of uploaded files,
 * ENV, WORKDIR, USER), and what they changed (the overlay's upper directory) becomes the new
 * template's layer, stacked on the parent's layers. The parent's image is reused as it is cached:
 * nothing is downloaded and nothing is repacked.
 */
export class TemplateBuilds {
  readonly root: string;
  private readonly builds = new Map<string, Build>();
  private readonly uploads = new Map<string, { file: string; token: string; done: boolean }>();

  constructor(private readonly o: TemplateBuildsOptions) {
    this.root = path.join(o.dataDir, 'template-builds');
  }

  get unsupported(): string | undefined {
    return this.o.unsupported;
  }

  /** `POST /v3/templates`: a new template (or a new build of the template of that name). */
  async request(req: BuildRequest): Promise<Record<string, unknown>> {
    if (this.o.unsupported) throw new ApiError(501, this.o.unsupported);
    if ((await this.o.registry.inner.names()).includes(req.name))
      throw new ApiError(409, `template name '${req.name}' belongs to a template of the runtime's template store`);
    const running = [...this.builds.values()].filter((b) => b.status === 'building');
    if (running.length >= (this.o.maxConcurrentBuilds ?? 2))
      throw new ApiError(429, `${running.length} template builds are in progress; try again when one is done`);
    let t = this.o.registry.find(req.name);
    if (!t) {
      const now = new Date();
      t = { templateId: randomId(20), name: req.name, createdAt: now, updatedAt: now, spawnCount: 0 };
      this.o.registry.add(t);
    }
    const now = new Date();
    const b: Build = {
      buildId: crypto.randomUUID(),
      templateId: t.templateId,
      request: req,
      status: 'waiting',
      logs: [],
      createdAt: now,
      updatedAt: now,
      abort: new AbortController(),
    };
    this.builds.set(b.buildId, b);
    return {
      templateID: t.templateId,
      buildID: b.buildId,
      names: [t.name],
      aliases: [t.name],
      tags: req.tags,
      public: false,
    };
  }

  /** `GET /templates/{id}/files/{hash}`: where to PUT the COPY archive, unless it is there already. */
  fileLink(templateId: string, hash: string, apiBase: string): { present: boolean; url?: string } {
    this.template(templateId);
    if (!/^[0-9a-f]{16,128}$/.test(hash)) throw new ApiError(400, 'files hash must be hex');
    const key = `${templateId}/${hash}`;
    const have = this.uploads.get(key);
    if (have?.done) return { present: true };
    const token = have?.token ?? randomToken(18);
    this.uploads.set(key, { file: path.join(this.root, 'uploads', templateId, hash), token, done: false });
    return {
      present: false,
      url: `${apiBase}/templates/${templateId}/files/${hash}?token=${encodeURIComponent(token)}`,
    };
  }

  /** The upload link's PUT: the archive, checked against the link's token (no API key, as a signed URL). */
  async upload(templateId: string, hash: string, token: string | null, body: Readable): Promise<void> {
    const u = this.uploads.get(`${templateId}/${hash}`);
    if (!u || token !== u.token) throw new ApiError(403, 'invalid or expired upload link');
    await mkdir(path.dirname(u.file), { recursive: true });
    const tmp = `${u.file}.part-${randomId(6)}`;
    const max = this.o.maxUploadBytes ?? 512 * 1024 * 1024;
    let size = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        cb(size > max ? new ApiError(413, `upload larger than ${max} bytes`) : null, chunk);
      },
    });
    try {
      await pipeline(body, limit, createWriteStream(tmp));
      await rename(tmp, u.file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    u.done = true;
  }

  /** `POST /v2/templates/{id}/builds/{buildId}`: runs the build in the background. */
  start(templateId: string, buildId: string, plan: BuildPlan, parent: Context = ROOT_CONTEXT): void {
    const t = this.template(templateId);
    const b = this.builds.get(buildId);
    if (!b || b.templateId !== t.templateId) throw notFound(`build '${buildId}' of template '${templateId}'`);
    if (b.done) throw new ApiError(409, `build '${buildId}' was already started`);
    if (plan.fromTemplate === t.name || plan.fromTemplate === t.templateId)
      throw new ApiError(400, `template '${t.name}' cannot be built from itself`);
    b.done = this.run(b, t, plan, parent);
  }

  /** `GET /templates/{id}/builds/{buildId}/status`: status plus log lines from `logsOffset` on. */
  status(templateId: string, buildId: string, logsOffset: number): Record<string, unknown> {
    const t = this.template(templateId);
    const b = this.builds.get(buildId);
    if (!b || b.templateId !== t.templateId) throw notFound(`build '${buildId}' of template '${templateId}'`);
    return {
      templateID: t.templateId,
      buildID: b.buildId,
      status: b.status,
      logEntries: b.logs.slice(logsOffset, logsOffset + LOG_PAGE),
      logs: [],
      ...(b.reason ? { reason: b.reason } : {}),
    };
  }

  /** The template with its builds (`GET /templates/{id}`), or undefined when it was not built here. */
  describe(idOrName: string): Record<string, unknown> | undefined {
    const t = this.o.registry.find(idOrName);
    if (!t) return undefined;
    const builds = [...this.builds.values()].filter((b) => b.templateId === t.templateId);
    return {
      templateID: t.templateId,
      names: [t.name],
      aliases: [t.name],
      public: false,
      createdAt: t.createdAt.toISOString(),
      updatedAt: t.updatedAt.toISOString(),
      lastSpawnedAt: t.lastSpawnedAt?.toISOString() ?? null,
      spawnCount: t.spawnCount,
      builds: builds.map((b) => ({
        buildID: b.buildId,
        status: b.status,
        createdAt: b.createdAt.toISOString(),
        updatedAt: b.updatedAt.toISOString(),
        cpuCount: b.request.cpuCount ?? null,
        memoryMB: b.request.memoryMb ?? null,
      })),
    };
  }

  /** Names of the runtime's own templates (the template store's or the host's), which are not built here. */
  stockNames(): Promise<string[]> {
    return this.o.registry.inner.names();
  }

  /** Built templates (with `ready`: only those sandboxes can start from, a build of theirs being ready). */
  list(ready = false): Record<string, unknown>[] {
    return this.o.registry
      .all()
      .filter((t) => !ready || t.current)
      .map((t) => this.describe(t.templateId)!);
  }

  /**
   * `DELETE /templates/{id}`: stops its build in progress, forgets it and its uploads; its layer
   * goes once no sandbox uses it. False when no built template has that id or name.
   */
  async delete(idOrName: string): Promise<boolean> {
    const t = this.o.registry.find(idOrName);
    if (!t) return false;
    const kids = this.o.registry.children(t);
    if (kids.length)
      throw new ApiError(409, `template '${t.name}' is the base of ${kids.map((k) => `'${k.name}'`).join(', ')}`);
    const mine = [...this.builds.values()].filter((b) => b.templateId === t.templateId);
    for (const b of mine) b.abort.abort(new Error(`template '${t.name}' was deleted`));
    await Promise.all(mine.map((b) => b.done));
    for (const b of mine) this.builds.delete(b.buildId);
    for (const k of [...this.uploads.keys()]) if (k.startsWith(`${t.templateId}/`)) this.uploads.delete(k);
    await rm(path.join(this.root, 'uploads', t.templateId), { recursive: true, force: true });
    await this.o.registry.remove(t);
    return true;
  }

  /** Aborts builds in progress and waits for them (runtime shutdown; sandboxes are gone already). */
  async stop(): Promise<void> {
    for (const b of this.builds.values()) b.abort.abort(new Error('runtime is shutting down'));
    await Promise.all([...this.builds.values()].map((b) => b.done));
    this.removeAllSync();
  }

  /** Deletes every layer and upload now (exit paths). */
  removeAllSync(): void {
    for (const b of this.builds.values()) if (b.sandbox) this.o.driver.killSync(b.sandbox);
    this.o.registry.clear();
    this.builds.clear();
    this.uploads.clear();
    rmSync(this.root, { recursive: true, force: true });
  }

  private template(idOrName: string): BuiltTemplate {
    const t = this.o.registry.find(idOrName);
    if (!t) throw notFound(`template '${idOrName}'`);
    return t;
  }

  private log(b: Build, level: BuildLogEntry['level'], message: string, step?: number): void {
    b.logs.push({
      timestamp: new Date().toISOString(),
      level,
      message,
      ...(step === undefined ? {} : { step: String(step) }),
    });
    b.updatedAt = new Date();
  }

  private async run(b: Build, t: BuiltTemplate, plan: BuildPlan, parent: Context): Promise<void> {
    const driver = this.o.driver;
    const dir = path.join(this.root, 'layers', b.buildId);
    const signal = b.abort.signal;
    const timer = setTimeout(() => b.abort.abort(new Error('build timed out')), this.o.buildTimeoutMs ?? 30 * 60_000);
    let base: ResolvedTemplate | undefined;
    let sandbox: DriverSandbox | undefined;
    b.status = 'building';
    this.log(b, 'info', `Building template '${t.name}' from '${plan.fromTemplate}' (${plan.steps.length} steps)`);
    try {
      const layer = await this.o.tracing.operation(
        'template.build',
        parent,
        { 'e2b.template': t.name, 'e2b.template.from': plan.fromTemplate, 'e2b.build_id': b.buildId },
        async (phase): Promise<BuiltLayer> => {
          base = await this.o.registry.ensure(plan.fromTemplate, phase);
          signal.throwIfAborted();
          const resolved = base;
          sandbox = await phase('build_spawn', () =>
            driver.create(
              {
                id: randomId(12),
                lowerDirs: resolved.layers ?? [resolved.rootfs],
                binds: resolved.binds,
                cpuCount: b.request.cpuCount ?? resolved.cpuCount,
                memoryMb: b.request.memoryMb ?? resolved.memoryMb,
                network: this.o.network,
              },
              phase,
            ),
          );
          b.sandbox = sandbox;
          const c: StepContext = {
            driver,
            sandbox,
            user: resolved.user,
            env: {},
            upload: (hash) => {
              const u = this.uploads.get(`${t.templateId}/${hash}`);
              return u?.done ? u.file : undefined;
            },
            log: (level, message, step) => this.log(b, level, message, step),
            signal,
          };
          for (const [i, step] of plan.steps.entries()) {
            signal.throwIfAborted();
            await phase('build_step', () => runStep(c, step, i + 1));
          }
          signal.throwIfAborted();
          const sb = sandbox;
          const snap = await phase('build_layer', () => driver.snapshot(sb, dir, phase));
          // A checkpointing driver saves process state too: a template needs only the files.
          if (snap.checkpointDir) await rm(snap.checkpointDir, { recursive: true, force: true });
          return {
            buildId: b.buildId,
            dir,
            layerDir: snap.layerDir,
            parent: plan.fromTemplate,
            ...(c.user === resolved.user ? {} : { user: c.user }),
            ...(b.request.cpuCount === undefined ? {} : { cpuCount: b.request.cpuCount }),
            ...(b.request.memoryMb === undefined ? {} : { memoryMb: b.request.memoryMb }),
            refs: 0,
            retired: false,
          };
        },
      );
      signal.throwIfAborted();
      this.o.registry.publish(t, layer);
      b.status = 'ready';
      this.log(b, 'info', `Template '${t.name}' is ready`);
    } catch (err) {
      const message = signal.aborted
        ? String((signal.reason as Error)?.message ?? signal.reason)
        : (err as Error).message;
      const step = err instanceof StepError ? String(err.step) : undefined;
      this.log(b, 'error', message, err instanceof StepError ? err.step : undefined);
      b.status = 'error';
      b.reason = {
        message,
        ...(step ? { step } : {}),
        logEntries: b.logs.filter((l) => l.level === 'error').slice(-20),
      };
      await rm(dir, { recursive: true, force: true });
    } finally {
      clearTimeout(timer);
      if (sandbox)
        await driver.kill(sandbox).catch((e: unknown) => this.o.log(`build sandbox: ${(e as Error).message}`));
      b.sandbox = undefined;
      base?.release?.();
      b.updatedAt = new Date();
    }
  }
}
