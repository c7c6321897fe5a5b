/**
 * Every alert rule of the repository evaluated by a real Prometheus (Debian's) on what a real
 * exporter exposes: the rule files are loaded unchanged (their `for` durations included), only the
 * scrape and evaluation intervals of prometheus/prometheus.yml shrink to a second. The exporter has
 * two targets: `local`, the embedded runtime (healthy), and `down`, a local-runtime URL on loopback
 * where nothing listens (every sandbox probe fails at once). Both run the two cheapest sandbox
 * probes.
 *
 * ProbeFailing must go active (pending: its `for` is 30 minutes) for exactly the probes of `down`,
 * and no other alert may be active once every probe has finished a run. Prometheus reports the
 * state of each alert rule through /api/v1/alerts; /api/v1/rules shows they were all evaluated.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort, httpOk, startProcess, waitFor, type Proc } from '../helpers/processes.js';
import { instantQuery } from './lib/prometheus-api.js';
import { loadRules, ROOT, RULES_DIR } from './lib/sources.js';

const PROBES = ['lifecycle.ops', 'lifecycle.warm_start'];
const HEALTHY = 'local';
const FAILING = 'down';
/** How long the probes may take to all finish a run, and ProbeFailing to see two failed runs. */
const SETTLE_MS = 180_000;

let tmp: string;
let promBase: string;
let exporterBase: string;
const procs: Proc[] = [];

function exporterConfig(port: number, closed: number): string {
  // A timeout may not exceed the interval. A healthy run takes well under a second on an idle
  // machine, but 17 s was seen beside the full suite on 2 cores: 40 s leaves room. ProbeFailing
  // needs two failed runs (a rate), so it goes active about one interval in.
  const probe = { interval: '40s', timeout: '40s', samples: 1, targets: [HEALTHY, FAILING] };
  return stringify({
    server: { listen: `127.0.0.1:${port}` },
    scheduler: { max_start_offset: '0s', jitter_ratio: 0, max_concurrent_runs: 4, exclusive_load: false },
    local_runtime: { pool_size: 1 },
    enable_all_probes: false,
    targets: [
      { name: HEALTHY, cloud_provider: 'local', cloud_region: 'alerts', max_concurrent_runs: 2 },
      {
        name: FAILING,
        cloud_provider: 'local',
        cloud_region: 'alerts',
        max_concurrent_runs: 2,
        e2b: {
          api_key: 'e2b_alerts',
          api_url: `http://127.0.0.1:${closed}`,
          sandbox_url: `http://127.0.0.1:${closed}`,
        },
      },
    ],
    probes: {
      'lifecycle.ops': probe,
      'lifecycle.warm_start': { ...probe, pause_between: 0 },
    },
  });
}

/** prometheus/prometheus.yml with 1 s intervals, the repository's rule files, the exporter job only. */
function prometheusConfig(exporterPort: number): string {
  const doc = parse(readFileSync(join(ROOT, 'prometheus/prometheus.yml'), 'utf8')) as {
    global: Record<string, string>;
    rule_files: string[];
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  doc.global.scrape_interval = '1s';
  doc.global.evaluation_interval = '1s';
  doc.rule_files = doc.rule_files.map((f) => join(ROOT, 'prometheus', f));
  const job = doc.scrape_configs.find((j) => j.job_name === 'e2b-bench')!;
  job.static_configs = [{ targets: [`127.0.0.1:${exporterPort}`] }];
  doc.scrape_configs = [job];
  return stringify(doc);
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'e2bbench-alerts-'));
  const ports = { exporter: await freePort(), prometheus: await freePort(), closed: await freePort() };
  const configFile = join(tmp, 'e2b-bench.yml');
  writeFileSync(configFile, exporterConfig(ports.exporter, ports.closed));
  const exporter = startProcess(
    'exporter',
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'test/observability/lib/run-cli.ts'), 'serve', '--config', configFile],
    { cwd: ROOT },
  );
  procs.push(exporter);
  const promConfig = join(tmp, 'prometheus.yml');
  writeFileSync(promConfig, prometheusConfig(ports.exporter));
  const prometheus = startProcess('prometheus', 'prometheus', [
    `--config.file=${promConfig}`,
    `--storage.tsdb.path=${join(tmp, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${ports.prometheus}`,
    '--log.level=warn',
  ]);
  procs.push(prometheus);
  promBase = `http://127.0.0.1:${ports.prometheus}`;
  exporterBase = `http://127.0.0.1:${ports.exporter}`;
  await waitFor('exporter /-/ready', () => httpOk(`${exporterBase}/-/ready`), exporter, 120_000);
  await waitFor('prometheus /-/ready', () => httpOk(`${promBase}/-/ready`), prometheus, 60_000);
}, 200_000);

afterAll(async () => {
  // Prometheus first (it scrapes the exporter), then the exporter, which kills its sandboxes on SIGTERM.
  for (const p of [...procs].reverse()) await p.stop(p.name === 'exporter' ? 90_000 : 10_000);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 150_000);

interface ActiveAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

async function api<T>(path: string): Promise<T> {
  const r = await fetch(`${promBase}${path}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await r.json()) as { status: string; error?: string; data: T };
  if (body.status !== 'success') throw new Error(`${path}: ${body.error}`);
  return body.data;
}

const activeAlerts = async () => (await api<{ alerts: ActiveAlert[] }>('/api/v1/alerts')).alerts;
/** One line per active alert: name, the pair or target it is about, state. */
const describeAlert = (a: ActiveAlert) =>
  [a.labels.alertname, a.labels.stale, a.labels.probe, a.labels.target, a.labels.instance, a.state]
    .filter(Boolean)
    .join(' ');

/** Every configured pair has finished a run (until then ProbeStale's never_ran branch is rightly pending). */
async function allRan(): Promise<boolean> {
  const rows = await instantQuery(promBase, 'e2bbench_probe_last_run_timestamp_seconds');
  const ran = new Set(rows.map((r) => `${r.metric.probe} ${r.metric.target}`));
  return [HEALTHY, FAILING].every((t) => PROBES.every((p) => ran.has(`${p} ${t}`)));
}

describe('alert rules on a real exporter', () => {
  it('every alert rule of the repository is loaded and evaluates without error', async () => {
    const expected = loadRules()
      .filter((r) => r.rule.alert)
      .map((r) => r.rule.alert!)
      .sort();
    type ApiRule = { type: string; name: string; health: string; lastError?: string; lastEvaluation: string };
    let rules: ApiRule[] = [];
    const deadline = Date.now() + 30_000;
    do {
      const data = await api<{ groups: { file: string; rules: ApiRule[] }[] }>('/api/v1/rules');
      expect(data.groups.every((g) => g.file.startsWith(RULES_DIR))).toBe(true);
      rules = data.groups.flatMap((g) => g.rules).filter((r) => r.type === 'alerting');
      if (rules.every((r) => r.health === 'ok')) break;
      await sleep(1000);
    } while (Date.now() < deadline);
    expect(rules.map((r) => r.name).sort()).toEqual(expected);
    for (const r of rules) {
      expect(r.health, `${r.name}: ${r.lastError}`).toBe('ok');
      expect(Date.parse(r.lastEvaluation), r.name).toBeGreaterThan(0);
    }
  }, 60_000);

  it(
    'ProbeFailing is active for exactly the failing (probe, target) pairs, and no other alert is',
    async () => {
      const want = PROBES.map((p) => `ProbeFailing ${p} ${FAILING} pending`).sort();
      const deadline = Date.now() + SETTLE_MS;
      let got: string[] = [];
      for (;;) {
        got = (await activeAlerts()).map(describeAlert).sort();
        if ((JSON.stringify(got) === JSON.stringify(want) && (await allRan())) || Date.now() > deadline) break;
        await sleep(1000);
      }
      expect(got).toEqual(want);
      // It holds, evaluation after evaluation, while both targets keep being probed.
      for (let i = 0; i < 5; i++) {
        await sleep(1000);
        expect((await activeAlerts()).map(describeAlert).sort()).toEqual(want);
      }
      // The healthy target did run those probes, successfully: its silence is not for lack of data.
      const success = await instantQuery(promBase, `e2bbench_probe_success{target="${HEALTHY}"}`);
      const failed = await fetch(`${exporterBase}/api/runs?target=${HEALTHY}&success=false`).then((r) => r.json());
      expect(
        success.map((s) => `${s.metric.probe}=${s.value[1]}`).sort(),
        `failed runs on ${HEALTHY}: ${JSON.stringify(failed)}`,
      ).toEqual(PROBES.map((p) => `${p}=1`));
    },
    SETTLE_MS + 30_000,
  );
});
