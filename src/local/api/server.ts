import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, notFound } from '../core/errors.js';
import { NO_FAULTS, parseFaultConfig, type Faults } from '../core/faults.js';
import { itemKey, matchesMetadata, page, parseListQuery } from '../core/list-query.js';
import type { SandboxManager } from '../core/manager.js';
import type { TemplateProvider } from '../core/templates.js';
import type { LocalMetrics } from '../telemetry/metrics.js';
import { extractContext } from '../telemetry/tracing.js';
import { header, readJson, secretEquals, sendError, sendJson } from './http.js';
import { Router } from './router.js';
import { templateRoutes } from './templates.js';
import type { TemplateBuilds } from '../build/builds.js';
import { sandboxCreated, sandboxDetail, sandboxListed, snapshotListed, stringMap } from './serialize.js';

export interface ControlPlaneOptions {
  manager: SandboxManager;
  templates: TemplateProvider;
  builds: TemplateBuilds;
  faults: Faults;
  metrics: LocalMetrics;
  apiKey: string;
  adminToken: string;
  driverName: string;
  pauseKind: string;
}

export interface Req {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  url: URL;
}

export type Handler = (r: Req) => Promise<void>;

function seconds(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new ApiError(400, `${what} must be a non-negative number of seconds`);
  return n;
}

/** E2B's control-plane REST API (the subset the SDK uses), plus /metrics, /health and /admin. */
export function createControlPlaneHandler(o: ControlPlaneOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const m = o.manager;
  const api = new Router<Handler>();
  const open = new Router<Handler>();
  const admin = new Router<Handler>();

  const create: Handler = async ({ req, res }) => {
    const body = (await readJson(req)) as Record<string, unknown>;
    let metadata, envVars;
    try {
      metadata = stringMap(body.metadata, 'metadata');
      envVars = stringMap(body.envVars, 'envVars');
    } catch (err) {
      throw new ApiError(400, (err as Error).message);
    }
    const record = await m.create(
      {
        templateID: typeof body.templateID === 'string' ? body.templateID : 'base',
        metadata,
        envVars,
        timeout: seconds(body.timeout, 'timeout'),
        autoPause: body.autoPause === true,
        autoPauseMemory: body.autoPauseMemory !== false,
      },
      extractContext(req.headers),
    );
    sendJson(res, 201, sandboxCreated(record));
  };

  const connect: Handler = async ({ req, res, params }) => {
    const body = (await readJson(req)) as Record<string, unknown>;
    const { record, resumed } = await m.connect(
      params.id!,
      seconds(body.timeout, 'timeout'),
      extractContext(req.headers),
    );
    sendJson(res, resumed ? 201 : 200, sandboxCreated(record));
  };

  const list: Handler = async ({ res, url }) => {
    const q = parseListQuery(url.searchParams);
    const items = m
      .all()
      .filter((r) => (q.states ? q.states.includes(r.state) : true))
      .filter((r) => matchesMetadata(r.metadata, q.metadata))
      .filter((r) => (q.template ? r.templateId === q.template : true))
      .filter((r) => (q.startedAfter ? r.startedAt >= q.startedAfter : true));
    const p = page(items, (r) => itemKey(r.startedAt.getTime(), r.sandboxId), q);
    sendJson(res, 200, p.items.map(sandboxListed), p.next ? { 'x-next-token': p.next } : {});
  };

  api
    .add('POST', '/sandboxes', create)
    .add('POST', '/v2/sandboxes', create)
    .add('GET', '/sandboxes', list)
    .add('GET', '/v2/sandboxes', list)
    .add('GET', '/sandboxes/:id', async ({ res, params }) => sendJson(res, 200, sandboxDetail(m.get(params.id!))))
    .add('DELETE', '/sandboxes/:id', async ({ res, params }) => {
      await m.kill(params.id!, 'api');
      sendJson(res, 204, undefined);
    })
    .add('POST', '/sandboxes/:id/timeout', async ({ req, res, params }) => {
      const body = (await readJson(req)) as Record<string, unknown>;
      const t = seconds(body.timeout, 'timeout');
      if (t === undefined) throw new ApiError(400, 'timeout is required');
      m.setTimeoutSec(params.id!, t);
      sendJson(res, 204, undefined);
    })
    .add('POST', '/sandboxes/:id/refreshes', async ({ req, res, params }) => {
      const body = (await readJson(req)) as Record<string, unknown>;
      m.setTimeoutSec(params.id!, seconds(body.duration, 'duration') ?? 60);
      sendJson(res, 204, undefined);
    })
    .add('GET', '/sandboxes/:id/metrics', async ({ res, params, url }) => {
      const start = seconds(url.searchParams.get('start') ?? undefined, 'start');
      const end = seconds(url.searchParams.get('end') ?? undefined, 'end');
      if (start !== undefined && end !== undefined && start > end)
        throw new ApiError(400, 'start must not be after end');
      sendJson(res, 200, await m.metrics(params.id!, start, end));
    })
    .add('POST', '/sandboxes/:id/pause', async ({ req, res, params }) => {
      const body = (await readJson(req)) as Record<string, unknown>;
      // `memory: false` (the SDK's keepMemory: false): a filesystem-only pause, resume reboots.
      await m.pause(params.id!, extractContext(req.headers), body.memory !== false);
      sendJson(res, 204, undefined);
    })
    .add('POST', '/sandboxes/:id/fork', async ({ req, res, params }) => {
      const body = (await readJson(req)) as Record<string, unknown>;
      const count = body.count === undefined ? 1 : Number(body.count);
      if (!Number.isInteger(count) || count < 1 || count > 100)
        throw new ApiError(400, 'count must be an integer between 1 and 100');
      const results = await m.fork(params.id!, count, seconds(body.timeout, 'timeout'), extractContext(req.headers));
      sendJson(
        res,
        201,
        results.map((r) => ('sandbox' in r ? { sandbox: sandboxCreated(r.sandbox) } : r)),
      );
    })
    .add('POST', '/sandboxes/:id/resume', connect)
    .add('POST', '/sandboxes/:id/connect', connect)
    .add('POST', '/v2/sandboxes/:id/connect', connect)
    .add('POST', '/sandboxes/:id/snapshots', async ({ req, res, params }) => {
      const body = (await readJson(req)) as Record<string, unknown>;
      const name = typeof body.name === 'string' && body.name !== '' ? body.name : undefined;
      const s = await m.snapshot(params.id!, name, extractContext(req.headers));
      sendJson(res, 201, snapshotListed(s));
    })
    .add('GET', '/snapshots', async ({ res, url }) => {
      const q = parseListQuery(url.searchParams);
      const sandboxID = url.searchParams.get('sandboxID');
      const name = url.searchParams.get('name');
      const items = m
        .listSnapshots()
        .filter((s) => (sandboxID ? s.sandboxId === sandboxID : true))
        .filter((s) => (name ? s.names.includes(name) : true));
      const p = page(items, (s) => itemKey(s.createdAt.getTime(), s.snapshotId), q);
      sendJson(res, 200, p.items.map(snapshotListed), p.next ? { 'x-next-token': p.next } : {});
    });
  templateRoutes(api, open, { manager: m, templates: o.templates, builds: o.builds });

  open
    .add('GET', '/health', async ({ res }) => sendJson(res, 200, { status: 'ok' }))
    .add('GET', '/metrics', async ({ res }) => {
      const text = await o.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': o.metrics.registry.contentType }).end(text);
    });

  admin
    .add('GET', '/admin/status', async ({ res }) => {
      const names = await o.templates.names();
      const cached = await Promise.all(names.map((n) => o.templates.cached(n)));
      sendJson(res, 200, {
        driver: o.driverName,
        pauseKind: o.pauseKind,
        sandboxes: m.all().map((r) => ({
          sandboxID: r.sandboxId,
          state: r.state,
          templateID: r.templateId,
          startType: r.startType,
          network: r.driver.networkInfo?.(r.driverSandbox),
        })),
        pool: Object.fromEntries(m.pool.templates().map((t) => [t, m.pool.count(t)])),
        templates: names.map((n, i) => ({ name: n, cached: cached[i] })),
        faults: o.faults.config,
        usedMemoryMB: m.usedMemoryMb(),
        // Built templates in every state (a failed or unfinished build's template too, until deleted).
        templateBuilds: o.builds.unsupported
          ? { supported: false, reason: o.builds.unsupported, templates: [] }
          : { supported: true, templates: o.builds.list() },
      });
    })
    .add('POST', '/admin/templates/evict', async ({ req, res }) => {
      const body = (await readJson(req)) as Record<string, unknown>;
      const t = typeof body.template === 'string' ? body.template : undefined;
      await evict(t);
      sendJson(res, 200, { evicted: t ?? 'all' });
    })
    .add('POST', '/admin/templates/:name/evict', async ({ res, params }) => {
      await evict(params.name);
      sendJson(res, 200, { evicted: params.name });
    })
    .add('POST', '/admin/pool/drain', async ({ req, res }) => {
      const body = (await readJson(req)) as Record<string, unknown>;
      const drained = await m.pool.drain(typeof body.template === 'string' ? body.template : undefined);
      sendJson(res, 200, { drained });
    })
    .add('POST', '/admin/pool/refill', async ({ req, res }) => {
      const body = (await readJson(req)) as Record<string, unknown>;
      const names = typeof body.template === 'string' ? [body.template] : await o.templates.names();
      await Promise.all(names.map((n) => m.pool.refill(n)));
      sendJson(res, 200, { pool: Object.fromEntries(names.map((n) => [n, m.pool.count(n)])) });
    })
    .add('GET', '/admin/faults', async ({ res }) => sendJson(res, 200, o.faults.config))
    .add('PUT', '/admin/faults', async ({ req, res }) => {
      o.faults.config = parseFaultConfig(await readJson(req), o.faults.config);
      sendJson(res, 200, o.faults.config);
    })
    .add('DELETE', '/admin/faults', async ({ res }) => {
      o.faults.config = { ...NO_FAULTS };
      sendJson(res, 200, o.faults.config);
    })
    .add('POST', '/admin/sandboxes/:id/crash', async ({ res, params }) => {
      m.crash(params.id!);
      sendJson(res, 200, { crashed: params.id });
    });

  async function evict(template: string | undefined): Promise<void> {
    if (template !== undefined && !(await o.templates.names()).includes(template))
      throw notFound(`template '${template}'`);
    // Pooled sandboxes hold the cached rootfs: drain them so the next create is really cold.
    await m.pool.drain(template);
    await o.templates.evict(template);
    o.metrics.evictions.inc();
  }

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://api');
    const method = req.method ?? 'GET';
    let routeName = 'other';
    res.once('finish', () => o.metrics.apiRequests.inc({ route: routeName, code: String(res.statusCode) }));
    const run = async () => {
      const isAdmin = url.pathname.startsWith('/admin/');
      const table = isAdmin
        ? admin
        : open.match(method, url.pathname) && 'route' in open.match(method, url.pathname)
          ? open
          : api;
      const found = table.match(method, url.pathname);
      if (!('route' in found))
        throw new ApiError(
          found.methodMismatch ? 405 : 404,
          found.methodMismatch ? 'method not allowed' : `no route for ${method} ${url.pathname}`,
        );
      routeName = found.route.name;
      if (isAdmin) {
        const auth = header(req, 'authorization');
        const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
        if (!secretEquals(token, o.adminToken)) throw new ApiError(401, 'invalid admin token');
      } else if (table === api && !secretEquals(header(req, 'x-api-key'), o.apiKey)) {
        throw new ApiError(401, 'Invalid API key');
      }
      await found.route.handler({ req, res, params: found.params, url });
    };
    run().catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, err);
    });
  };
}
