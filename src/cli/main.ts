import { ConfigError } from '../config/errors.js';
import { maskSecrets } from '../config/secrets.js';
import { HistoryError } from '../results/history-error.js';
import { parse, UsageError } from './args.js';
import { runSummary, type RunRecord } from '../results/run-record.js';
import { formatRun } from './format.js';
import { REPORT_HELP } from './report.js';
import { SUITE_HELP } from './suite.js';

// Heavy modules (every probe, the cloud SDKs, the local runtime) load only in the commands that
// need them, so `--help` and `check-config` start fast.
// Imported one after another: Node 20 can crash when concurrent dynamic imports meet a package
// that require()s an ES module.
const core = async () => {
  const { ALL_PROBES } = await import('../../probes/index.js');
  const { Exporter } = await import('../app/exporter.js');
  const { defaultPlugins } = await import('../app/plugins.js');
  const { loadConfig } = await import('../config/load.js');
  return { ALL_PROBES, Exporter, defaultPlugins, loadConfig };
};

const HELP: Record<string, string> = {
  main: `e2b-bench: benchmark exporter for E2B sandbox services

Usage: e2b-bench <command> [options]

Commands:
  serve          run the exporter: scheduled probes, /metrics, status page, on-demand runs
  run <probe>    run one probe once and print its results
  suite          run probes once per target, write the report, check thresholds (CI gate)
  report         the cross-cloud comparison (HTML, Markdown, JSON) from the run history
  check-config   validate a configuration file
  probes         list the implemented probes and their defaults
  local-runtime  run the local E2B-compatible sandbox runtime on its own
  template       build the local sandbox templates

Run "e2b-bench <command> --help" for a command's options.`,
  serve: `Usage: e2b-bench serve [--config FILE] [--listen HOST:PORT]

Runs the exporter. Without --config: one target "local" (the embedded local runtime) and every
implemented probe at its default interval. SIGHUP or POST /-/reload reloads the config file.

  -c, --config FILE        YAML configuration (see docs/configuration.md)
  -l, --listen HOST:PORT   overrides server.listen (default 127.0.0.1:9477)`,
  run: `Usage: e2b-bench run <probe> [--config FILE] [--target NAME] [--samples N] [--json]

Runs one probe once against one target and prints the results.

  -c, --config FILE     YAML configuration
  -t, --target NAME     target to run against (default: the only / first target)
  -n, --samples N       override the probe's sample count
      --json            print one JSON object: probe, target, success, reason, traceId,
                        durationSeconds, metrics [{name, labels, value}], phases, details
Exit status: 0 success or skipped, 1 probe failed, 2 usage or configuration error.`,
  'check-config': `Usage: e2b-bench check-config FILE

Validates FILE and lists every problem, each with the path of the bad key. Exit 0 when valid.`,
  report: REPORT_HELP,
  suite: SUITE_HELP,
  probes: `Usage: e2b-bench probes [--config FILE]

Lists the implemented probes with their family, interval or cron schedule (with its next run)
and timeout: the defaults, or as FILE configures them.

  -c, --config FILE     YAML configuration`,
};

function out(s: string): void {
  process.stdout.write(s + '\n');
}

async function cmdServe(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    { config: { type: 'string', short: 'c' }, listen: { type: 'string', short: 'l' } },
    false,
  );
  if (values.help) return (out(HELP.serve), 0);
  const log = (l: string) => process.stderr.write(`${new Date().toISOString()} ${maskSecrets(l)}\n`);
  const { Exporter, defaultPlugins } = await core();
  const exp = await Exporter.start({ configFile: values.config, listen: values.listen, log }, defaultPlugins(log));
  log(
    `e2b-bench listening on http://${exp.address} (config: ${exp.config.source}; targets: ${exp.targets.map((t) => t.name).join(', ')})`,
  );
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping; running probes are aborted and their sandboxes killed`);
    await exp.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => void exp.reload());
  return new Promise<number>(() => undefined);
}

async function cmdRun(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    config: { type: 'string', short: 'c' },
    target: { type: 'string', short: 't' },
    samples: { type: 'string', short: 'n' },
    json: { type: 'boolean' },
  });
  if (values.help) return (out(HELP.run), 0);
  const name = positionals[0];
  if (!name || positionals.length > 1)
    throw new UsageError('run takes exactly one probe name (see "e2b-bench probes")');
  const samples = values.samples === undefined ? undefined : Number(values.samples);
  if (samples !== undefined && (!Number.isInteger(samples) || samples < 1))
    throw new UsageError('--samples must be a positive integer');
  const log = values.json ? undefined : (l: string) => process.stderr.write(`${maskSecrets(l)}\n`);
  const { ALL_PROBES, Exporter, defaultPlugins } = await core();
  // Probes that need no sandboxes (host, storage) don't start the embedded runtime.
  const embedded = ALL_PROBES.find((p) => p.name === name)?.requires?.includes('sandbox') ?? true;
  const exp = await Exporter.start(
    { configFile: values.config, serve: false, schedule: false, log },
    defaultPlugins(log, { embedded }),
  );
  // Interrupted: the run is aborted and its sandboxes killed before the exporter stops.
  const onSig = () => exp.dispatcher.stop();
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  try {
    const found = exp.dispatcher.resolve(name, values.target, { includeDisabled: true, defaultTarget: 'first' });
    if (!found.ok)
      throw new UsageError(
        found.problem === 'not_applicable'
          ? `probe ${name} does not apply to target ${values.target ?? exp.targets[0]?.name}`
          : `${found.message} (known: ${found.choices.join(', ')})`,
      );
    const admission = await exp.dispatcher.dispatch({ pair: found.pair, trigger: 'cli', samples });
    if (admission.kind !== 'started') {
      process.stderr.write(`e2b-bench: ${name} not run: ${admission.message}\n`);
      return 1;
    }
    const run = await admission.done;
    await exp.tracing.flush();
    if (values.json) {
      out(JSON.stringify(runSummary(run, true)));
    } else out(formatRun(run));
    return run.success || run.skipped ? 0 : 1;
  } finally {
    await exp.stop();
  }
}

async function cmdSuite(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      config: { type: 'string', short: 'c' },
      target: { type: 'string', short: 't', multiple: true },
      probe: { type: 'string', short: 'p', multiple: true },
      samples: { type: 'string', short: 'n' },
      out: { type: 'string', short: 'o' },
      format: { type: 'string', short: 'f' },
    },
    false,
  );
  if (values.help) return (out(HELP.suite), 0);
  const s = await import('./suite.js');
  const r = await import('./report.js');
  const format = r.formatFor(values.format, values.out);
  const samples = s.positiveInt(values.samples, '--samples');
  const { ALL_PROBES, Exporter, defaultPlugins, loadConfig } = await core();
  const { planSuite, selectProbes } = await import('../suite/plan.js');
  const { evaluateThresholds } = await import('../thresholds/evaluate.js');
  // Usage and config errors before anything starts.
  const cfg = await loadConfig(values.config, ALL_PROBES);
  for (const t of values.target ?? [])
    if (!cfg.targets.some((x) => x.name === t))
      throw new UsageError(`unknown target ${JSON.stringify(t)} (known: ${cfg.targets.map((x) => x.name).join(', ')})`);
  const selected = selectProbes(cfg, values.probe ?? []);
  // Host and storage probes need no sandboxes: the embedded runtime starts only for the others.
  const embedded = selected.some((pc) => pc.probe.family !== 'host' && pc.probe.family !== 'storage');
  const exp = await Exporter.start(
    { configFile: values.config, serve: false, schedule: false },
    defaultPlugins(undefined, { embedded }),
  );
  // Interrupted: the running probe is aborted and its sandboxes killed before the exporter stops.
  let interrupted = false;
  const onSig = () => {
    interrupted = true;
    exp.dispatcher.stop();
  };
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  const started = Date.now();
  const runs: RunRecord[] = [];
  let targets: string[];
  try {
    targets = values.target?.length ? values.target : exp.targets.map((t) => t.name);
    const plan = planSuite(selectProbes(exp.config, values.probe ?? []), targets, (probe, target) => {
      const found = exp.dispatcher.resolve(probe, target, { includeDisabled: true });
      return found.ok ? found.pair : undefined;
    });
    if (!plan.length) throw new UsageError('nothing to run: no selected probe applies to the selected targets');
    const progress = new s.Progress(plan.length);
    for (const pair of plan) {
      if (interrupted) break;
      progress.start(pair.pc.probe.name, pair.target.name);
      const t0 = Date.now();
      // The dispatcher starts every run (admission: one per pair, slots, the sandbox budget).
      const admission = await exp.dispatcher.dispatch({ pair, trigger: 'cli', samples });
      if (admission.kind !== 'started') {
        progress.finish(`not run: ${admission.message}`, (Date.now() - t0) / 1000);
        continue;
      }
      const run = await admission.done;
      runs.push(run);
      progress.finish(s.outcomeOf(run), run.durationSeconds);
    }
    progress.end();
    await exp.tracing.flush();
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
    await exp.stop(); // writes the queued runs to the history
  }
  if (interrupted) {
    process.stderr.write('suite interrupted; no report written\n');
    return 1;
  }
  const report = await r.buildReportFor(cfg, { sinceMs: Date.now() - started + 1000, targets });
  await r.emitReport(await r.renderReport(report, format), values.out);
  if (values.out) process.stderr.write(`report (${format}) written to ${values.out}\n`);
  const results = evaluateThresholds(cfg.thresholds, runs);
  for (const res of results) process.stderr.write(`${s.formatThresholdResult(res, s.plain)}\n`);
  const failed = results.filter((x) => !x.ok);
  if (results.length)
    process.stderr.write(
      failed.length
        ? `${failed.length} of ${results.length} threshold check(s) failed\n`
        : `all ${results.length} threshold check(s) hold\n`,
    );
  return failed.length ? 1 : 0;
}

async function cmdReport(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      config: { type: 'string', short: 'c' },
      since: { type: 'string', short: 's' },
      target: { type: 'string', short: 't', multiple: true },
      format: { type: 'string', short: 'f' },
      out: { type: 'string', short: 'o' },
      prometheus: { type: 'string' },
    },
    false,
  );
  const r = await import('./report.js');
  if (values.help) return (out(HELP.report), 0);
  const format = r.formatFor(values.format, values.out);
  const sinceMs = r.sinceMs(values.since);
  const { ALL_PROBES } = await import('../../probes/index.js');
  const { loadConfig } = await import('../config/load.js');
  const cfg = await loadConfig(values.config, ALL_PROBES);
  const report = await r.buildReportFor(cfg, { sinceMs, targets: values.target, prometheus: values.prometheus });
  await r.emitReport(await r.renderReport(report, format), values.out);
  return 0;
}

async function cmdCheckConfig(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {});
  if (values.help) return (out(HELP['check-config']), 0);
  if (positionals.length !== 1) throw new UsageError('check-config takes exactly one FILE');
  const { ALL_PROBES, loadConfig } = await core();
  const cfg = await loadConfig(positionals[0], ALL_PROBES);
  out(
    `${positionals[0]}: OK (${cfg.targets.length} target(s), ${[...cfg.probes.values()].filter((p) => p.enabled).length} probe(s) enabled)`,
  );
  return 0;
}

async function cmdProbes(argv: string[]): Promise<number> {
  const { values } = parse(argv, { config: { type: 'string', short: 'c' } }, false);
  if (values.help) return (out(HELP.probes), 0);
  const { ALL_PROBES, loadConfig } = await core();
  const cfg = values.config ? await loadConfig(values.config, ALL_PROBES) : undefined;
  const { nextCronRun } = await import('../scheduler/cron.js');
  const { formatDuration } = await import('../config/duration.js');
  for (const p of ALL_PROBES) {
    const pc = cfg?.probes.get(p.name);
    const when = pc?.schedule
      ? `cron "${pc.schedule.cron}"${pc.schedule.timezone ? ` ${pc.schedule.timezone}` : ''}, next ${
          nextCronRun(pc.schedule.cron, pc.schedule.timezone)?.toISOString() ?? '—'
        }`
      : `every ${pc ? formatDuration(pc.intervalMs) : p.defaults.interval}`;
    const timeout = pc ? formatDuration(pc.timeoutMs) : p.defaults.timeout;
    const off = pc ? (pc.enabled ? '' : ' (disabled)') : p.defaults.enabled === false ? ' (off by default)' : '';
    out(
      `${p.name.padEnd(28)} ${p.family.padEnd(10)} ${when.padEnd(11)} timeout ${timeout.padEnd(5)} ${p.description}${off}`,
    );
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(HELP.main);
        return cmd === undefined ? 2 : 0;
      case 'serve':
        return await cmdServe(rest);
      case 'run':
        return await cmdRun(rest);
      case 'suite':
        return await cmdSuite(rest);
      case 'report':
        return await cmdReport(rest);
      case 'check-config':
        return await cmdCheckConfig(rest);
      case 'probes':
        return await cmdProbes(rest);
      case 'local-runtime':
        return await (await import('./local-runtime.js')).cmdLocalRuntime(rest);
      case 'template':
        return await (await import('./template.js')).cmdTemplate(rest);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if (err instanceof HistoryError) {
      process.stderr.write(`e2b-bench: ${maskSecrets(err.message)}\n`);
      return 1;
    }
    if (err instanceof UsageError) {
      process.stderr.write(
        `e2b-bench: ${err.message}\nRun "e2b-bench ${cmd && HELP[cmd] ? `${cmd} ` : ''}--help" for usage.\n`,
      );
      return 2;
    }
    throw err;
  }
}
