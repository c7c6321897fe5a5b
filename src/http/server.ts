import type { Server } from 'node:http';
import express, { type Request, type Response } from 'express';
import type { MetricsRegistry } from '../../exporters/prometheus/registry.js';
import type { Config } from '../config/load.js';
import { probeAppliesTo } from '../config/load.js';
import type { TargetConfig } from '../config/schema.js';
import { runSummary } from '../results/run-record.js';
import type { RunSink } from '../results/store.js';
import { ownerKey, type Runner } from '../runner/runner.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { requireToken } from './auth.js';
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
  runner: Runner;
  scheduler: Scheduler;
  config(): Config;
  /** Targets with connections resolved (the embedded local runtime filled in). */
  targets(): TargetConfig[];
  reload(): Promise<ReloadResult>;
  ready(): boolean;
}

function wantsOpenMetrics(req: Request): boolean {
  return /application\/openmetrics-text/.test(req.get('accept') ?? '');
}

export function createHttpApp(app: HttpApp): express.Express {
  const x = express();
  x.disable('x-powered-by');
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
    const cfg = app.config();
    const name = String(req.params.probe);
    const allowed = new Set(['target', 'debug']);
    const extra = Object.keys(req.query).filter((k) => !allowed.has(k));
    if (extra.length)
      return res
        .status(400)
        .json({ error: `unsupported query parameter(s): ${extra.join(', ')} (allowed: target, debug)` });
    const pc = cfg.probes.get(name);
    if (!pc || !pc.enabled)
      return res.status(404).json({
        error: `unknown or disabled probe ${JSON.stringify(name)}`,
        probes: [...cfg.probes.values()].filter((p) => p.enabled).map((p) => p.probe.name),
      });
    const targets = app.targets();
    const tname = typeof req.query.target === 'string' ? req.query.target : undefined;
    if (!tname && targets.length !== 1)
      return res
        .status(400)
        .json({ error: 'target is required when more than one is configured', targets: targets.map((t) => t.name) });
    const target = tname ? targets.find((t) => t.name === tname) : targets[0];
    if (!target)
      return res
        .status(404)
        .json({ error: `unknown target ${JSON.stringify(tname)}`, targets: targets.map((t) => t.name) });
    if (!probeAppliesTo(pc, target))
      return res.status(404).json({
        error: `probe ${name} is not configured for target ${target.name}`,
        targets: targets.filter((t) => probeAppliesTo(pc, t)).map((t) => t.name),
      });
    const debugParam = req.query.debug;
    if (debugParam !== undefined && debugParam !== 'true' && debugParam !== 'false')
      return res.status(400).json({ error: 'debug must be true or false' });
    const retryAfter = String(Math.max(1, Math.ceil(pc.timeoutMs / 1000)));
    if (app.runner.isRunning(name, target.name)) {
      res.setHeader('Retry-After', retryAfter);
      return res.status(429).json({ error: `${name} is already running on ${target.name}` });
    }
    if (!app.scheduler.tryClaim(target)) {
      res.setHeader('Retry-After', retryAfter);
      return res.status(429).json({ error: 'concurrency cap reached; try again later' });
    }
    try {
      const run = await app.runner.run(pc, target, { trigger: 'on_demand', signal: app.scheduler.runSignal });
      const body = runSummary(run, debugParam === 'true');
      res.json(body);
    } catch (err) {
      // The runner refuses only a second concurrent run of the same probe on the same target.
      const busy = /already running/.test((err as Error).message);
      if (busy) res.setHeader('Retry-After', retryAfter);
      res.status(busy ? 429 : 500).json({ error: (err as Error).message });
    } finally {
      app.scheduler.releaseClaim(target);
      // A reload during the run may have unconfigured this probe or target: its series go with it.
      const now = app.config().probes.get(name);
      const still = app.targets().find((t) => t.name === target.name);
      if (!now || !still || !probeAppliesTo(now, still)) app.metrics.removeOwner(ownerKey(name, target.name));
    }
  });

  x.get('/api/runs', (req, res) => {
    const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      return res.status(400).json({ error: 'limit must be an integer from 1 to 1000' });
    const success = req.query.success === undefined ? undefined : req.query.success === 'true';
    const runs = app.store.list({
      probe: typeof req.query.probe === 'string' ? req.query.probe : undefined,
      target: typeof req.query.target === 'string' ? req.query.target : undefined,
      success,
      limit,
    });
    res.json({ runs: runs.map(({ logs: _l, metrics: _m, ...summary }) => summary) });
  });

  x.get('/api/runs/:id', (req, res) => {
    const run = app.store.get(String(req.params.id));
    if (!run) return res.status(404).json({ error: `no run ${JSON.stringify(req.params.id)}` });
    res.json(run);
  });

  x.get('/', (_req, res) => {
    const cfg = app.config();
    res.type('html').send(
      renderStatusPage({
        version: app.version,
        configSource: cfg.source,
        targets: app.targets(),
        jobs: app.scheduler.status(),
        pairs: app
          .targets()
          .flatMap((t) =>
            [...cfg.probes.values()]
              .filter((pc) => probeAppliesTo(pc, t))
              .map((pc) => ({ probe: pc.probe.name, target: t.name })),
          ),
        latest: app.store.latest(),
        failures: app.store.list({ success: false, limit: 20 }).filter((r) => !r.skipped),
      }),
    );
  });

  x.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not found' });
  });
  return x;
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
