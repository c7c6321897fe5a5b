import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { MetricsRegistry } from '../../exporters/prometheus/registry.js';
import type { Config } from '../config/load.js';
import type { TargetConfig } from '../config/schema.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { RunTarget } from '../targets/machine.js';
import { runSummary } from '../results/run-record.js';
import type { RunSink } from '../results/store.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { maskSecrets } from '../config/secrets.js';
import { requireToken } from './auth.js';
import { queryProblem } from './query.js';
import { reportFromHistory } from '../report/from-history.js';
import { renderHtml } from '../report/html.js';
import { keyFigures } from './key-figures.js';
import { renderStatusPage } from './status-page.js';

export interface ReloadResult {
  ok: boolean;
  errors?: string[];
}

/** What the HTTP layer needs from the exporter; kept narrow so routes are testable alone. */
export interface HttpApp {
  version: string;
  metrics: MetricsRegistry;
  store: RunSink;
  /** Resolves and admits runs; knows the configured targets (connections resolved) and pairs. */
  dispatcher: Dispatcher;
  scheduler: Scheduler;
  config(): Config;
  reload(): Promise<ReloadResult>;
  ready(): boolean;
}

function wantsOpenMetrics(req: Request): boolean {
  return /application\/openmetrics-text/.test(req.get('accept') ?? '');
}

const DAY_MS = 86_400_000;

export function createHttpApp(app: HttpApp): express.Express {
  const x = express();
  x.disable('x-powered-by');
  // Last line of defence: no response body (metrics, runs, pages, reload errors) carries a secret.
  x.use((_req, res, next) => {
    const send = res.send.bind(res);
    res.send = (body?: unknown) => send(typeof body === 'string' ? maskSecrets(body) : body);
    next();
  });
  const guard = requireToken(() => app.config().raw.server.auth_token);

  x.get('/metrics', async (req, res) => {
    const { contentType, body } = await app.metrics.render(wantsOpenMetrics(req));
    res.type(contentType).send(body);
  });

  x.get('/-/healthy', (_req, res) => void res.type('text/plain').send('OK\n'));
  x.get('/-/ready', (_req, res) => {
    if (app.ready()) res.type('text/plain').send('Ready\n');
    else res.status(503).type('text/plain').send('Not ready\n');
  });

  x.post('/-/reload', guard, async (_req, res) => {
    const r = await app.reload();
    res.status(r.ok ? 200 : 400).json(r);
  });

  x.post('/probe/:probe', guard, async (req: Request, res: Response) => {
    const name = String(req.params.probe);
    const bad = queryProblem(req.query, ['target', 'debug']);
    if (bad) return res.status(400).json({ error: bad });
    const debugParam = req.query.debug;
    if (debugParam !== undefined && debugParam !== 'true' && debugParam !== 'false')
      return res.status(400).json({ error: 'debug must be true or false' });
    const tname = typeof req.query.target === 'string' ? req.query.target : undefined;
    const found = app.dispatcher.resolve(name, tname, { defaultTarget: 'only' });
    if (!found.ok)
      return res
        .status(found.problem === 'target_required' ? 400 : 404)
        .json({ error: found.message, [found.problem === 'unknown_probe' ? 'probes' : 'targets']: found.choices });
    const admission = await app.dispatcher.dispatch({ pair: found.pair, trigger: 'on_demand' });
    switch (admission.kind) {
      case 'busy':
        res.setHeader('Retry-After', String(admission.retryAfterSeconds));
        return res.status(429).json({ error: admission.message, reason: admission.reason });
      case 'skipped':
        // Refused before it started: the budget is used up, or the exporter is stopping.
        return res
          .status(admission.reason === 'budget' ? 429 : 503)
          .json({ error: admission.message, reason: admission.reason });
      case 'started':
        return res.json(runSummary(await admission.done, debugParam === 'true'));
    }
  });

  x.get('/api/runs', (req, res) => {
    const bad = queryProblem(req.query, ['probe', 'target', 'success', 'skipped', 'limit']);
    if (bad) return res.status(400).json({ error: bad });
    const q = req.query as Record<string, string | undefined>;
    if (q.limit !== undefined && !/^\d{1,4}$/.test(q.limit))
      return res.status(400).json({ error: 'limit must be an integer from 1 to 1000' });
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (limit < 1 || limit > 1000) return res.status(400).json({ error: 'limit must be an integer from 1 to 1000' });
    for (const k of ['success', 'skipped'] as const)
      if (q[k] !== undefined && q[k] !== 'true' && q[k] !== 'false')
        return res.status(400).json({ error: `${k} must be true or false` });
    // An empty filter would match everything (the store ignores it): refuse it rather than guess.
    for (const k of ['probe', 'target'] as const)
      if (q[k] === '') return res.status(400).json({ error: `${k} must not be empty` });
    const runs = app.store.list({
      probe: q.probe,
      target: q.target,
      success: q.success === undefined ? undefined : q.success === 'true',
      skipped: q.skipped === undefined ? undefined : q.skipped === 'true',
      limit,
    });
    res.json({ runs: runs.map(({ logs: _l, metrics: _m, ...summary }) => summary) });
  });

  x.get('/api/runs/:id', (req, res) => {
    const run = app.store.get(String(req.params.id));
    if (!run) return res.status(404).json({ error: `no run ${JSON.stringify(req.params.id)}` });
    res.json(run);
  });

  // Browsers ask for it on every page; there is none, and a 404 would show as a console error.
  x.get('/favicon.ico', (_req, res) => void res.status(204).end());

  x.get('/report', (_req, res) => {
    const cfg = app.config();
    const until = new Date();
    const report = reportFromHistory(app.store, {
      since: new Date(until.getTime() - DAY_MS),
      until,
      weights: cfg.raw.report.weights,
      config: app.dispatcher.targets(),
    });
    res.type('html').send(renderHtml(report));
  });

  x.get('/', (_req, res) => {
    const cfg = app.config();
    const recent = app.store.range({ since: Date.now() - DAY_MS });
    res.type('html').send(
      renderStatusPage({
        version: app.version,
        configSource: cfg.source,
        targets: statusColumns(app.dispatcher.targets(), app.dispatcher.hostTarget()),
        jobs: app.scheduler.status(),
        pairs: app.dispatcher.pairs().map((p) => ({ probe: p.pc.probe.name, target: p.target.name })),
        latest: app.store.latest(),
        failures: app.store.list({ success: false, skipped: false, limit: 20 }),
        figures: new Map(app.dispatcher.targets().map((t) => [t.name, keyFigures(t, recent)])),
      }),
    );
  });

  x.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not found' });
  });
  // Errors raised before a route runs (a path that is not valid percent-encoding) and any a route
  // throws: JSON with a reason, never express's HTML page with a stack trace.
  x.use((err: Error & { status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err instanceof URIError) return res.status(400).json({ error: 'the path is not valid percent-encoding' });
    const status = err.status !== undefined && err.status >= 400 && err.status < 500 ? err.status : 500;
    res.status(status).json({ error: status < 500 ? err.message : 'internal error' });
  });
  return x;
}

/** Status page columns: the targets, and this machine when no target holds it (host probes run there). */
function statusColumns(targets: TargetConfig[], machine: RunTarget | undefined) {
  const m = machine?.machine;
  if (!machine || !m || targets.some((t) => t.name === machine.name)) return targets;
  return [
    ...targets,
    { name: machine.name, cloud_provider: m.cloud_provider, cloud_region: m.cloud_region, template: '(this machine)' },
  ];
}

export function listen(x: express.Express, hostPort: string): Promise<Server> {
  const i = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, i) || '0.0.0.0';
  const port = Number(hostPort.slice(i + 1));
  return new Promise((resolve, reject) => {
    const s = x.listen(port, host);
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
}
