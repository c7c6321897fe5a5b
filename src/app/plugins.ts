import { hostname } from 'node:os';
import { costGauges } from '../cost/index.js';
import type { Config } from '../config/load.js';
import type { BudgetConfig, TargetConfig } from '../config/schema.js';
import { maskSecrets } from '../config/secrets.js';
import { Budget } from '../targets/budget.js';
import { RunSandboxBroker } from '../targets/broker.js';
import { Reaper } from '../targets/reaper.js';
import type { Exporter, ExporterPlugins } from './exporter.js';
import { EmbeddedRuntime } from './embedded-runtime.js';

/** Default instance name: host and listen port; a random port (0) gets the pid so instances never collide. */
export function instanceName(cfg: Config): string {
  if (cfg.raw.server.instance) return cfg.raw.server.instance;
  const port = cfg.raw.server.listen.split(':').pop();
  return `${hostname()}:${port === '0' ? `pid${process.pid}` : port}`;
}

function budgetLimits(cfg: Config): [BudgetConfig, Map<string, Partial<BudgetConfig>>] {
  return [cfg.raw.budget, new Map(cfg.targets.filter((t) => t.budget).map((t) => [t.name, t.budget!]))];
}

/**
 * The production wiring: the embedded local runtime for targets that need it, the sandbox broker
 * with budget caps, the reaper, and pricing gauges.
 */
export function defaultPlugins(sink?: (line: string) => void, opts: { embedded?: boolean } = {}): ExporterPlugins {
  // The reaper and brokers log service errors, which can echo request headers: mask by value.
  const log = sink && ((line: string) => sink(maskSecrets(line)));
  const budget = new Budget({ max_concurrent_sandboxes: 10, max_sandbox_minutes_per_hour: 60 });
  const embedded = new EmbeddedRuntime(log);
  let reaper: Reaper | undefined;
  let instance = `${hostname()}:pid${process.pid}`;
  let exporter: Exporter | undefined;
  let targets: TargetConfig[] = [];

  return {
    async resolveTargets(cfg) {
      budget.configure(...budgetLimits(cfg));
      instance = instanceName(cfg);
      targets = opts.embedded === false ? cfg.targets : await embedded.resolve(cfg);
      if (!reaper && exporter) {
        reaper = new Reaper(() => targets, {
          instance,
          metrics: exporter.metrics,
          intervalMs: cfg.raw.server.reaper_interval,
          log,
        });
        await reaper.startup();
      }
      return targets;
    },
    brokerFor(exp) {
      exporter = exp;
      return (info) =>
        new RunSandboxBroker(info, {
          metrics: exp.metrics,
          budget,
          instance,
          log,
        });
    },
    budgetRefusal: (target) => budget.refusal(target),
    configGauges: [costGauges],
    async onStop() {
      reaper?.stop();
      await embedded.stop();
    },
  };
}
