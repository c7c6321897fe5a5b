/**
 * Several regions, one global view, with three real Prometheus processes (Debian's): two exporters
 * are two "regions", each scraped by its own Prometheus (prometheus/region.yml: external label
 * `region`, the alert rules) that remote-writes to a global one (prometheus/global.yml, the
 * recording rules, --web.enable-remote-write-receiver: the protocol Mimir, Thanos Receive and
 * Cortex accept). Both regions probe the shared target `e2b-cloud`; each has one of its own.
 *
 * On the global instance the recording rules and the cross-cloud dashboard return each target once
 * (no region left in any series, prices not doubled), the host panels show only the target that
 * declared `host: self`, and the alerts fire once per region. Probes are cheap: a 1 s host.cpu
 * and lifecycle.ops against a port nobody listens on (it fails at once, which the alert needs).
 * Scrapes and rule evaluations run every second instead of their production intervals.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { TargetSchema } from '../../src/config/schema.js';
import { deriveCosts } from '../../src/cost/index.js';
import { freePort, httpOk, startProcess, waitFor, type Proc } from '../helpers/processes.js';
import { instantQuery, type Sample } from './lib/prometheus-api.js';
import { substituteGrafanaVars } from './lib/promql.js';
import { dashboardExprs, loadRules, ROOT, RULES_DIR, type RuleGroup } from './lib/sources.js';

const REGIONS = ['eu', 'us'] as const;
type Region = (typeof REGIONS)[number];

let tmp: string;
const procs: Proc[] = [];
const prom: Record<Region | 'global', string> = { eu: '', us: '', global: '' };

const shared = (closed: number) => ({
  name: 'e2b-cloud',
  cloud_provider: 'e2b',
  cloud_region: 'global',
  e2b: { api_key: 'k', api_url: `http://127.0.0.1:${closed}`, sandbox_url: `http://127.0.0.1:${closed}` },
});

function exporterConfig(region: Region, port: number, closed: number): string {
  const own = {
    ...shared(closed),
    name: `aws-${region}`,
    cloud_provider: 'aws',
    cloud_region: region === 'eu' ? 'eu-west-1' : 'us-east-1',
    pricing: { instance_type: 'm7i.large', hourly_usd: 0.1, nodes: 2 },
    // Only region eu's exporter runs on a node of its target.
    ...(region === 'eu' ? { host: 'self' } : {}),
  };
  return stringify({
    server: { listen: `127.0.0.1:${port}`, host: { name: `node-${region}` } },
    scheduler: { max_start_offset: '0s', jitter_ratio: 0, max_concurrent_runs: 3 },
    local_runtime: { enabled: false },
    enable_all_probes: false,
    targets: [shared(closed), own],
    probes: {
      'host.cpu': { interval: '1h', timeout: '1m', time: '1s', max_prime: 2000, threads: [1] },
      'lifecycle.ops': { interval: '2s', timeout: '2s', samples: 1 },
    },
  });
}

/** The repository's rule files, each group evaluated every second, alerts with no `for`. */
function writeRules(dir: string, files: string[]): string[] {
  mkdirSync(dir, { recursive: true });
  return files.map((f) => {
    const doc = parse(readFileSync(join(RULES_DIR, f), 'utf8')) as {
      groups: (RuleGroup & { rules: { for?: string }[] })[];
    };
    for (const g of doc.groups) {
      g.interval = '1s';
      for (const r of g.rules) if (r.for) r.for = '0s';
    }
    writeFileSync(join(dir, f), stringify(doc));
    return join(dir, f);
  });
}

/** A repository Prometheus config with loopback addresses, 1 s intervals and the rewritten rules. */
function promConfig(file: string, region: Region | 'global', ports: Record<string, number>): string {
  const doc = parse(readFileSync(join(ROOT, 'prometheus', file), 'utf8')) as Record<string, any>;
  const ruleDir = join(tmp, `rules-${region}`);
  doc.rule_files = writeRules(
    ruleDir,
    (doc.rule_files as string[]).map((f) => f.replace(/^rules\//, '')),
  );
  doc.global.evaluation_interval = '1s';
  doc.global.scrape_interval = '1s';
  if (region !== 'global') {
    expect(doc.global.external_labels.region).toBe('${E2BBENCH_REGION}');
    doc.scrape_configs[0].static_configs = [{ targets: [`127.0.0.1:${ports[`exporter-${region}`]}`] }];
    doc.remote_write[0].url = `http://127.0.0.1:${ports.global}/api/v1/write`;
    // Ship samples at once rather than in the production batches.
    doc.remote_write[0].queue_config = { batch_send_deadline: '1s' };
  }
  const out = join(tmp, `prometheus-${region}.yml`);
  writeFileSync(out, stringify(doc));
  return out;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'e2bbench-regions-'));
  const ports: Record<string, number> = { closed: await freePort(), global: await freePort() };
  for (const r of REGIONS) {
    ports[`exporter-${r}`] = await freePort();
    ports[r] = await freePort();
  }
  const start = (name: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv) => {
    const p = startProcess(name, cmd, args, { cwd: ROOT, env: env && { ...process.env, ...env } });
    procs.push(p);
    return p;
  };
  const prometheus = (region: Region | 'global', extra: string[], env?: NodeJS.ProcessEnv) =>
    start(
      `prometheus-${region}`,
      'prometheus',
      [
        `--config.file=${promConfig(region === 'global' ? 'global.yml' : 'region.yml', region, ports)}`,
        `--storage.tsdb.path=${join(tmp, `tsdb-${region}`)}`,
        `--web.listen-address=127.0.0.1:${ports[region]}`,
        '--log.level=warn',
        ...extra,
      ],
      env,
    );

  const waits: Promise<void>[] = [];
  const global = prometheus('global', ['--web.enable-remote-write-receiver']);
  prom.global = `http://127.0.0.1:${ports.global}`;
  waits.push(waitFor('global prometheus', () => httpOk(`${prom.global}/-/ready`), global, 60_000));
  for (const r of REGIONS) {
    const file = join(tmp, `exporter-${r}.yml`);
    writeFileSync(file, exporterConfig(r, ports[`exporter-${r}`], ports.closed));
    const exp = start(`exporter-${r}`, process.execPath, [
      '--import',
      'tsx',
      join(ROOT, 'test/observability/lib/run-cli.ts'),
      'serve',
      '--config',
      file,
    ]);
    waits.push(
      waitFor(`exporter ${r}`, () => httpOk(`http://127.0.0.1:${ports[`exporter-${r}`]}/-/ready`), exp, 90_000),
    );
    const p = prometheus(r, ['--enable-feature=expand-external-labels'], { E2BBENCH_REGION: r });
    prom[r] = `http://127.0.0.1:${ports[r]}`;
    waits.push(waitFor(`prometheus ${r}`, () => httpOk(`${prom[r]}/-/ready`), p, 60_000));
  }
  await Promise.all(waits);
}, 150_000);

afterAll(async () => {
  // Prometheus instances first (they scrape the exporters), then the exporters.
  for (const p of [...procs].reverse()) await p.stop(p.name.startsWith('exporter') ? 30_000 : 10_000);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 90_000);

/** Polls a query on an instance until `ok` holds for its result; returns the last result. */
async function until(base: string, expr: string, ok: (s: Sample[]) => boolean, ms = 90_000): Promise<Sample[]> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await instantQuery(base, expr);
    if (ok(s) || Date.now() > end) return s;
    await sleep(1000);
  }
}

const regionsOf = (s: Sample[]) => [...new Set(s.map((x) => x.metric.region))].sort();
const labelsOf = (s: Sample) => JSON.stringify(Object.entries(s.metric).sort());

describe('multi-region: region Prometheus → remote write → global Prometheus', () => {
  it('every region arrives at the global instance with its region label', async () => {
    const info = await until(prom.global, 'e2bbench_target_info{target="e2b-cloud"}', (s) => regionsOf(s).length === 2);
    expect(regionsOf(info)).toEqual(['eu', 'us']);
    const host = await until(
      prom.global,
      'e2bbench_cpu_events_per_second{scope="host"}',
      (s) => regionsOf(s).length === 2,
    );
    expect(regionsOf(host)).toEqual(['eu', 'us']);
    // The regions evaluate no recording rule: nothing global was recorded twice.
    expect(await instantQuery(prom.eu, 'target:e2bbench_cost_monthly_usd:sum')).toEqual([]);
  }, 120_000);

  it('recording rules on the global instance return each target once', async () => {
    const cost = await until(prom.global, 'target:e2bbench_cost_monthly_usd:sum', (s) => s.length >= 3);
    expect(cost.map((s) => s.metric.target).sort()).toEqual(['aws-eu', 'aws-us', 'e2b-cloud']);
    // Both regions export e2b-cloud's list price; the rule prices it once, not twice.
    const expected = deriveCosts(TargetSchema.parse(shared(1)))!.totalMonthlyUsd!;
    expect(Number(cost.find((s) => s.metric.target === 'e2b-cloud')!.value[1])).toBeCloseTo(expected, 6);
    await until(prom.global, 'target_probe:e2bbench_probe_failure:ratio_rate1h', (s) => s.length >= 3);

    const records = [...new Set(loadRules().flatMap(({ rule }) => (rule.record ? [rule.record] : [])))];
    let withData = 0;
    for (const name of records) {
      const rows = await instantQuery(prom.global, name);
      if (rows.length > 0) withData++;
      for (const row of rows) expect(row.metric, name).not.toHaveProperty('region');
      expect(new Set(rows.map(labelsOf)).size, name).toBe(rows.length);
    }
    expect(withData).toBeGreaterThanOrEqual(5);
  }, 120_000);

  it("the cross-cloud dashboard's queries return each target once; host figures only under the host: self target", async () => {
    const exprs = dashboardExprs(substituteGrafanaVars).filter(
      (e) => e.where.startsWith('cross-cloud') && e.source === 'dashboard',
    );
    expect(exprs.length).toBeGreaterThan(10);
    let withData = 0;
    for (const e of exprs) {
      const rows = await instantQuery(prom.global, e.expr);
      if (rows.length > 0) withData++;
      for (const row of rows) {
        expect(row.metric, e.where).not.toHaveProperty('region');
        expect(row.metric, e.where).not.toHaveProperty('instance');
      }
      expect(new Set(rows.map(labelsOf)).size, e.where).toBe(rows.length);
    }
    expect(withData).toBeGreaterThanOrEqual(3);

    const hostPanel = exprs.find((e) => e.where.includes('Host CPU events/s'))!;
    const rows = await until(prom.global, hostPanel.expr, (s) => s.length > 0);
    // Region us's machine belongs to no target: its figures are not any cloud's.
    expect(rows.map((r) => r.metric.target)).toEqual(['aws-eu']);
  }, 120_000);

  it('alerts fire per region', async () => {
    const expr = 'ALERTS{alertname="ProbeFailing", alertstate="firing", target="e2b-cloud"}';
    for (const r of REGIONS) {
      const local = await until(prom[r], expr, (s) => s.length > 0);
      expect(local.length, `ProbeFailing in region ${r}`).toBe(1);
    }
    const global = await until(prom.global, expr, (s) => regionsOf(s).length === 2);
    expect(regionsOf(global)).toEqual(['eu', 'us']);
  }, 120_000);
});
