import type { TemplateBuilds } from '../build/builds.js';
import { parseBuildRequest, parseBuildStart } from '../build/request.js';
import { ApiError, notFound } from '../core/errors.js';
import type { SandboxManager } from '../core/manager.js';
import type { TemplateProvider } from '../core/templates.js';
import { extractContext } from '../telemetry/tracing.js';
import { header, readJson, sendJson } from './http.js';
import type { Router } from './router.js';
import type { Handler } from './server.js';

export interface TemplateRouteDeps {
  manager: SandboxManager;
  /** Every template sandboxes can start from (the runtime's own and the built ones). */
  templates: TemplateProvider;
  builds: TemplateBuilds;
}

/**
 * E2B's template API, the part the SDK's `Template.build` drives (request, file upload links,
 * build start, status with logs), plus list, get, alias lookup and delete. Snapshots are
 * templates too on E2B: DELETE removes a snapshot when no built template has that id.
 */
export function templateRoutes(api: Router<Handler>, open: Router<Handler>, d: TemplateRouteDeps): void {
  const { builds } = d;
  api
    .add('GET', '/templates', async ({ res }) => {
      const stock = await builds.stockNames();
      const cached = await Promise.all(stock.map((n) => d.templates.cached(n)));
      sendJson(res, 200, [
        ...stock.map((n, i) => ({ templateID: n, names: [n], aliases: [n], public: true, cached: cached[i] })),
        ...builds.list(true),
      ]);
    })
    .add('GET', '/templates/:id', async ({ res, params }) => {
      const t = builds.describe(params.id!);
      if (t) return sendJson(res, 200, t);
      if (!(await builds.stockNames()).includes(params.id!)) throw notFound(`template '${params.id}'`);
      sendJson(res, 200, { templateID: params.id, names: [params.id], aliases: [params.id], public: true, builds: [] });
    })
    .add('GET', '/templates/aliases/:alias', async ({ res, params }) => {
      const t = builds.describe(params.alias!);
      if (t) return sendJson(res, 200, { templateID: t.templateID, public: false });
      if ((await builds.stockNames()).includes(params.alias!))
        return sendJson(res, 200, { templateID: params.alias, public: true });
      throw notFound(`template alias '${params.alias}'`);
    })
    .add('DELETE', '/templates/:id', async ({ res, params }) => {
      if (!(await builds.delete(params.id!))) await d.manager.deleteSnapshot(params.id!);
      sendJson(res, 204, undefined);
    })
    .add('POST', '/v3/templates', async ({ req, res }) => {
      sendJson(res, 202, await builds.request(parseBuildRequest(await readJson(req))));
    })
    .add('GET', '/templates/:id/files/:hash', async ({ req, res, params }) => {
      const host = header(req, 'host');
      if (!host) throw new ApiError(400, 'a Host header is required for the upload link');
      sendJson(res, 201, builds.fileLink(params.id!, params.hash!, `http://${host}`));
    })
    .add('POST', '/v2/templates/:id/builds/:buildId', async ({ req, res, params }) => {
      const plan = parseBuildStart(await readJson(req, 16 * 1024 * 1024));
      builds.start(params.id!, params.buildId!, plan, extractContext(req.headers));
      sendJson(res, 202, undefined);
    })
    .add('GET', '/templates/:id/builds/:buildId/status', async ({ res, params, url }) => {
      const offset = Number(url.searchParams.get('logsOffset') ?? 0);
      if (!Number.isInteger(offset) || offset < 0) throw new ApiError(400, 'logsOffset must be a non-negative integer');
      sendJson(res, 200, builds.status(params.id!, params.buildId!, offset));
    });

  // The upload link works like a signed URL: its token authorises it, not the API key.
  open.add('PUT', '/templates/:id/files/:hash', async ({ req, res, params, url }) => {
    await builds.upload(params.id!, params.hash!, url.searchParams.get('token'), req);
    sendJson(res, 201, undefined);
  });
}
