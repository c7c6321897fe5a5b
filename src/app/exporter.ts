import type { Server } from 'node:http';
import { MetricsRegistry } from '../../exporters/prometheus/registry.js';
import { Tracing } from '../../exporters/otel/tracing.js';
import { ALL_PROBES } from '../../probes/index.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig, type Config } from '../config/load.js';
import type { TargetConfig } from '../config/schema.js';
import { maskSecrets } from '../config/secrets.js';
import { createHttpApp, listen, type ReloadResult } from '../http/server.js';
import { openHistory } from '../results/open-history.js';
import type { RunHistory } from '../results/history.js';
import { Dispatcher } from '../dispatch/dispatcher.js';
import { Runner, type BrokerFactory } from '../runner/runner.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { detectMachine, machineTarget, type RunTarget } from '../targets/machine.js';
import { BUILD_INFO } from './build-info.js';
import type { ConfigGaugeSource } from './config-metrics.js';

export interface ExporterOptions {
  configFile?: string;
  /** Overrides server.listen. */
  listen?: string;
  log?: (line: string) => void;
  /** Don't start the scheduler (CLI one-shot runs). */
  schedule?: boolean;
  /** Don't open the HTTP port (CLI one-shot runs). */
  serve?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Hooks later layers plug in: the embedded runtime, the sandbox broker, extra config gauges. */
export interface ExporterPlugins {
  /** Resolves targets (e.g. fills the embedded local runtime's URLs in); may start things. */
  resolveTargets?: (cfg: Config) => Promise<TargetConfig[]>;
  brokerFor?: (exp: Exporter) => BrokerFactory;
  /** Why no sandbox may start on a target now (the sandbox budget); checked before a run is admitted. */
  budgetRefusal?: (target: string) => string | undefined;
  configGauges?: ConfigGaugeSource[];
  onStop?: () => Promise<void>;
}

export class Exporter {
  readonly metrics: MetricsRegistry;
  /** The persisted run history (SQLite). */
  readonly store: RunHistory;
  readonly runner: Runner;
  readonly dispatcher: Dispatcher;
  readonly scheduler: Scheduler;
  readonly tracing: Tracing;
  private server?: Server;
  private isReady = false;
  private resolved: TargetConfig[] = [];

  private constructor(
    private cfg: Config,
    private readonly opts: ExporterOptions,
    private readonly plugins: ExporterPlugins,
    history: RunHistory,
  ) {
    this.store = history;
    this.metrics = new MetricsRegistry(cfg.raw.histogram_buckets);
    this.tracing = new Tracing({
      serviceName: cfg.raw.tracing.service_name,
      otlpEndpoint: cfg.raw.tracing.otlp_endpoint,
      version: BUILD_INFO.version,
    });
    this.runner = new Runner({
      metrics: this.metrics,
      tracing: this.tracing,
      store: this.store,
      log: opts.log,
      brokerFor: plugins.brokerFor?.(this),
    });
    this.dispatcher = new Dispatcher({
      runner: this.runner,
      metrics: this.metrics,
      budgetRefusal: plugins.budgetRefusal,
      configGauges: plugins.configGauges,
      log: opts.log,
    });
    this.scheduler = new Scheduler(this.dispatcher, {
      jitterRatio: cfg.raw.scheduler.jitter_ratio,
      maxStartOffsetMs: cfg.raw.scheduler.max_start_offset,
      log: opts.log,
    });
  }

  static async start(given: ExporterOptions, plugins: ExporterPlugins = {}): Promise<Exporter> {
    // Every line the exporter logs passes the secret mask, whoever wrote it.
    const sink = given.log;
    const opts = { ...given, log: sink && ((l: string) => sink(maskSecrets(l))) };
    const cfg = await loadConfig(opts.configFile, ALL_PROBES, opts.env);
    // An unusable history stops start-up here, naming the file: runs are never kept only in memory.
    const exp = new Exporter(cfg, opts, plugins, openHistory(cfg.raw.history, { log: opts.log }));
    exp.metrics.set(
      'e2bbench_build_info',
      { version: BUILD_INFO.version, e2b_sdk_version: BUILD_INFO.e2bSdkVersion, node_version: BUILD_INFO.nodeVersion },
      1,
    );
    try {
      await exp.open(cfg);
    } catch (err) {
      await exp.store.close();
      throw err;
    }
    return exp;
  }

  private async open(cfg: Config): Promise<void> {
    if (this.opts.serve !== false) {
      this.server = await listen(
        createHttpApp({
          version: BUILD_INFO.version,
          metrics: this.metrics,
          store: this.store,
          dispatcher: this.dispatcher,
          scheduler: this.scheduler,
          config: () => this.cfg,
          reload: () => this.reload(),
          ready: () => this.isReady,
        }),
        this.opts.listen ?? cfg.raw.server.listen,
      );
    }
    await this.activate(cfg);
    this.isReady = true;
  }

  get config(): Config {
    return this.cfg;
  }

  get targets(): TargetConfig[] {
    return this.resolved;
  }

  /** Where host probes run: this machine, under the `host: self` target if one is declared. */
  get machine(): RunTarget {
    return this.dispatcher.hostTarget()!;
  }

  /** The bound address, e.g. 127.0.0.1:9477 (useful with port 0). */
  get address(): string | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? `${a.address}:${a.port}` : undefined;
  }

  private async activate(cfg: Config): Promise<void> {
    const resolved = this.plugins.resolveTargets ? await this.plugins.resolveTargets(cfg) : cfg.targets;
    const machine = machineTarget(await detectMachine(cfg, this.opts.log), resolved);
    this.cfg = cfg;
    this.resolved = resolved;
    this.dispatcher.configure(cfg, resolved, machine);
    if (this.opts.schedule !== false)
      this.scheduler.apply(this.dispatcher.pairs(), {
        jitterRatio: cfg.raw.scheduler.jitter_ratio,
        maxStartOffsetMs: cfg.raw.scheduler.max_start_offset,
      });
    this.metrics.set('e2bbench_config_last_reload_successful', {}, 1);
    this.metrics.set('e2bbench_config_last_reload_success_timestamp_seconds', {}, Date.now() / 1000);
  }

  /** Loads the config file again; a bad one leaves the running config in place and says why. */
  async reload(): Promise<ReloadResult> {
    try {
      const cfg = await loadConfig(this.opts.configFile, ALL_PROBES, this.opts.env);
      await this.activate(cfg);
      this.opts.log?.(`config reloaded from ${cfg.source}`);
      return { ok: true };
    } catch (err) {
      this.metrics.set('e2bbench_config_last_reload_successful', {}, 0);
      const errors = err instanceof ConfigError ? err.problems : [(err as Error).message];
      this.opts.log?.(`config reload failed, keeping the running config:\n  ${errors.join('\n  ')}`);
      return { ok: false, errors };
    }
  }

  async stop(): Promise<void> {
    this.isReady = false;
    this.scheduler.stop();
    this.dispatcher.stop();
    for (let i = 0; i < 600 && this.runner.runningCount() > 0; i++) await new Promise((r) => setTimeout(r, 50));
    if (this.server) {
      const closed = new Promise<void>((r) => this.server!.close(() => r()));
      this.server.closeAllConnections();
      await closed;
    }
    await this.plugins.onStop?.();
    await this.store.close();
    await this.tracing.shutdown();
  }
}
