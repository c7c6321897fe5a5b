/**
 * The exporter (embedded local runtime, real sandboxes) scraped by a real Prometheus (Debian)
 * loaded with prometheus/rules/: every PromQL expression of the dashboards and of the recording
 * rules must return data through Prometheus's HTTP API, so no misspelt metric or label survives.
 * Expressions that cannot have data yet are excused only through allow-empty.ts.
 *
 * Probes run once each with tiny settings (this checks names and wiring, not performance), with an
 * S3-compatible server (s3rver) and an iperf3 server on loopback. A second target, an E2B cloud
 * target nobody listens for, produces failures and list-price cost series. Rule groups run every
 * second here instead of their production intervals.
 */
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { CATALOG } from '../../exporters/prometheus/catalog.js';
import { ALL_PROBES } from '../../probes/index.js';
import { ALLOW_EMPTY } from './allow-empty.js';
import { selectors, type Selector } from './lib/promql.js';
import { exemplars, hasData, instantQuery } from './lib/prometheus-api.js';
import { freePort, httpOk, startProcess, waitFor, type Proc } from '../helpers/processes.js';
import {
  dashboardExprs,
  loadRules,
  ROOT,
  RULES_DIR,
  ruleExprs,
  ruleFiles,
  type Expr,
  type RuleGroup,
} from './lib/sources.js';
import { substituteGrafanaVars } from './lib/promql.js';
import { run } from './lib/tools.js';

const require = createRequire(import.meta.url);
const BUCKET = 'e2bbench-it';
const TEMPLATE_OBJECT = 'templates/rootfs.bin';
/**
 * Time for every probe to finish one run and the rules to catch up. On a loaded 2-core machine a
 * cold start alone took 140 s and sandbox.isolation, the last to start, missed a 4-minute deadline.
 */
const DEADLINE_MS = 420_000;

/** Tiny settings per probe: one run each, enough samples for a rate() to move. */
function probeSettings(ports: { iperf3: number; http: number }): Record<string, Record<string, unknown>> {
  const once = { interval: '10m' };
  return {
    'host.info': { interval: '5s', timeout: '5s' },
    'host.cpu': { ...once, timeout: '1m', time: '1s', max_prime: 2000, threads: [1, 2] },
    'host.memory': { ...once, timeout: '1m', time: '1s', latency_size: '16MiB', latency_time: '200ms' },
    'host.disk': { ...once, timeout: '2m', size: '8MiB', runtime: '1s', random_iodepths: [1], sequential_iodepth: 1 },
    'host.network': { ...once, timeout: '1m', server: '127.0.0.1', port: ports.iperf3, time: '1s' },
    'host.internet': { ...once, timeout: '1m', samples: 2, url: `http://127.0.0.1:${ports.http}/object` },
    'host.hugepages': { ...once, timeout: '1m', time: '1s', bytes: '16MiB' },
    // Samples more than a scrape interval apart, so that one run moves the histograms' rate().
    'lifecycle.cold_start': { ...once, timeout: '3m', samples: 2, pause_between: 1.5 },
    'lifecycle.warm_start': { ...once, timeout: '2m', samples: 2, pause_between: 1.5 },
    'lifecycle.snapshot_restore': { ...once, timeout: '2m', samples: 2, pause_between: 1.5 },
    // Its samples take well under a scrape interval: a second run is what moves the histogram.
    'lifecycle.ops': { interval: '30s', timeout: '30s', samples: 2 },
    'lifecycle.burst': { ...once, timeout: '2m', count: 2, modes: ['burst'] },
    'lifecycle.template_build': { ...once, timeout: '2m' },
    'capacity.density': { ...once, timeout: '3m', batch_size: 2, max_sandboxes: 2 },
    // Each observes within well under a scrape interval (storage.latency all at the end of its
    // run), so one run may never move a rate(): a second run is what does.
    'storage.objects': {
      interval: '30s',
      timeout: '30s',
      samples: 2,
      sizes: ['64KiB'],
      parallel_objects: 2,
      parallel_size: '64KiB',
      list_objects: 3,
      sample_gap: '100ms',
    },
    'storage.latency': { interval: '30s', timeout: '30s', sample_gap: '100ms', targets: ['local', 'e2b-unreachable'] },
    'storage.template_download': { interval: '30s', timeout: '30s', concurrency: [1, 2], range_size: '1MiB' },
    'sandbox.cpu': { ...once, timeout: '2m', samples: 1, time: '1s', max_prime: 2000 },
    'sandbox.memory': {
      ...once,
      timeout: '2m',
      samples: 1,
      time: '1s',
      alloc_size: '64MiB',
      alloc_repeat: 1,
      latency_size: '16MiB',
      latency_time: '200ms',
    },
    'sandbox.disk': {
      ...once,
      timeout: '2m',
      size: '8MiB',
      runtime: '1s',
      random_iodepths: [1],
      sequential_iodepth: 1,
    },
    'sandbox.network': { ...once, timeout: '1m', samples: 2, http_url: `http://127.0.0.1:${ports.http}/object` },
    'sandbox.code_exec': { ...once, timeout: '3m', startup_runs: 1, scale: 0.1 },
    'sandbox.package_install': { ...once, timeout: '1m', samples: 1 },
    'sandbox.container': { ...once, timeout: '1m', samples: 1 },
    'sandbox.isolation': { ...once, timeout: '3m', samples: 1, aggressors: 1, time: '1s', disk_size: '8MiB' },
  };
}

let tmp: string;
let promBase: string;
let exporterBase: string;
let objectServer: Server | undefined;
const procs: Proc[] = [];
/** Probes that must finish a run on target `local` before the check. */
let expectedProbes: string[] = [];

async function startS3(port: number): Promise<Proc> {
  const script = join(dirname(require.resolve('s3rver/package.json')), 'bin/s3rver.js');
  const dir = join(tmp, 's3');
  mkdirSync(dir);
  const p = startProcess('s3rver', process.execPath, [
    script,
    '-d',
    dir,
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '--silent',
    '--configure-bucket',
    BUCKET,
  ]);
  procs.push(p);
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor('s3rver', () => fetch(endpoint).then(() => true), p, 30_000);
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: TEMPLATE_OBJECT, Body: Buffer.alloc(4 << 20, 7) }));
  s3.destroy();
  return p;
}

function exporterConfig(ports: { exporter: number; s3: number; closed: number; iperf3: number; http: number }): string {
  const registered = new Set(ALL_PROBES.map((p) => p.name));
  const settings = probeSettings(ports);
  const probes: Record<string, Record<string, unknown>> = {};
  for (const name of registered) {
    // A probe registered after this test was written still runs, with its defaults: its series
    // then show up, and allow-empty.ts tells which entries to drop.
    // Host probes run once for this machine, placed under `local` by its host: self.
    const family = ALL_PROBES.find((p) => p.name === name)!.family;
    probes[name] = { ...(family === 'host' ? {} : { targets: ['local'] }), ...(settings[name] ?? {}) };
  }
  expectedProbes = [...registered];
  return stringify({
    server: { listen: `127.0.0.1:${ports.exporter}` },
    scheduler: { max_start_offset: '1s', jitter_ratio: 0, max_concurrent_runs: 3 },
    // This test is about the exposition, so the in-sandbox network probe downloads from this test's
    // loopback server directly; network isolation has its own tests (test/local/network.test.ts).
    local_runtime: { network: 'host' },
    targets: [
      {
        name: 'local',
        cloud_provider: 'local',
        cloud_region: 'it',
        template: 'base',
        max_concurrent_runs: 3,
        // The embedded runtime's sandboxes run on this machine.
        host: 'self',
        storage: {
          kind: 's3',
          bucket: BUCKET,
          region: 'us-east-1',
          endpoint: `http://127.0.0.1:${ports.s3}`,
          force_path_style: true,
          access_key_id: 'S3RVER',
          secret_access_key: 'S3RVER',
          template_objects: [TEMPLATE_OBJECT],
        },
        pricing: {
          instance_type: 'it.small',
          hourly_usd: 0.5,
          nodes: 1,
          local_disk_gb: 10,
          local_disk_usd_per_gb_month: 0.1,
          object_storage_usd_per_gb_month: 0.02,
          template_bytes: 1_000_000_000,
          snapshot_bytes: 1_000_000,
        },
      },
      {
        // Nothing listens here: its storage probe fails (failure series), its pricing is E2B's list price.
        name: 'e2b-unreachable',
        cloud_provider: 'e2b',
        cloud_region: 'nowhere',
        e2b: {
          api_key: 'e2b-it',
          api_url: `http://127.0.0.1:${ports.closed}`,
          sandbox_url: `http://127.0.0.1:${ports.closed}`,
        },
        storage: {
          kind: 's3',
          bucket: BUCKET,
          region: 'us-east-1',
          endpoint: `http://127.0.0.1:${ports.closed}`,
          force_path_style: true,
          access_key_id: 'x',
          secret_access_key: 'y',
        },
      },
    ],
    probes,
  });
}

/** The repository's rule files, with every group evaluated each second. */
function testRules(dir: string): void {
  mkdirSync(dir);
  for (const f of ruleFiles()) {
    const doc = parse(readFileSync(join(RULES_DIR, f), 'utf8')) as { groups: RuleGroup[] };
    for (const g of doc.groups) g.interval = '1s';
    writeFileSync(join(dir, f), stringify(doc));
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'e2bbench-observability-'));
  const ports = {
    exporter: await freePort(),
    prometheus: await freePort(),
    s3: await freePort(),
    iperf3: await freePort(),
    closed: await freePort(),
    http: await freePort(),
  };
  await startS3(ports.s3);

  // A 1 MiB object for sandbox.network's HTTP downloads.
  const object = Buffer.alloc(1 << 20, 1);
  objectServer = createServer((_req, res) => res.end(object));
  await new Promise<void>((r) => objectServer!.listen(ports.http, '127.0.0.1', r));

  const iperf = startProcess('iperf3', 'iperf3', ['-s', '-B', '127.0.0.1', '-p', String(ports.iperf3)]);
  procs.push(iperf);

  const configFile = join(tmp, 'e2b-bench.yml');
  writeFileSync(configFile, exporterConfig(ports));
  const exporter = startProcess(
    'exporter',
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'test/observability/lib/run-cli.ts'),
      'serve',
      '--config',
      configFile,
      '--listen',
      `127.0.0.1:${ports.exporter}`,
    ],
    { cwd: ROOT },
  );
  procs.push(exporter);

  testRules(join(tmp, 'rules'));
  const promConfig = join(tmp, 'prometheus.yml');
  writeFileSync(
    promConfig,
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(tmp, 'rules', '*.rules.yml')],
      scrape_configs: [{ job_name: 'e2b-bench', static_configs: [{ targets: [`127.0.0.1:${ports.exporter}`] }] }],
    }),
  );
  const prometheus = startProcess('prometheus', 'prometheus', [
    `--config.file=${promConfig}`,
    `--storage.tsdb.path=${join(tmp, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${ports.prometheus}`,
    '--enable-feature=exemplar-storage',
    '--log.level=warn',
  ]);
  procs.push(prometheus);
  promBase = `http://127.0.0.1:${ports.prometheus}`;

  exporterBase = `http://127.0.0.1:${ports.exporter}`;
  await waitFor('exporter /-/ready', () => httpOk(`${exporterBase}/-/ready`), exporter, 120_000);
  await waitFor('prometheus /-/ready', () => httpOk(`${promBase}/-/ready`), prometheus, 60_000);
}, 200_000);

afterAll(async () => {
  // Prometheus first (it scrapes the exporter), then the exporter: SIGTERM aborts running probes
  // and kills their sandboxes, which can take a while on a busy machine.
  for (const p of [...procs].reverse()) await p.stop(p.name === 'exporter' ? 90_000 : 10_000);
  await new Promise((r) => (objectServer ? objectServer.close(r) : r(undefined)));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 150_000);

// ---- which expressions may be empty ------------------------------------------------------------

const allow = ALLOW_EMPTY.map((a) => ({ ...a, sel: selectors(a.selector)[0] }));

function matchesEntry(s: Selector): (typeof allow)[number] | undefined {
  return allow.find(
    (a) =>
      a.sel.name === s.name &&
      a.sel.matchers.every((m) => s.matchers.some((n) => n.label === m.label && n.op === m.op && n.value === m.value)),
  );
}

const recordingExprs = new Map<string, string[]>();
for (const { rule } of loadRules())
  if (rule.record) recordingExprs.set(rule.record, [...(recordingExprs.get(rule.record) ?? []), rule.expr]);

/** The allow-list entry that excuses an expression: one of its selectors, or of a rule it reads. */
function excuse(expr: string, seen = new Set<string>()): (typeof allow)[number] | undefined {
  for (const s of selectors(expr)) {
    const hit = matchesEntry(s);
    if (hit) return hit;
    if (recordingExprs.has(s.name) && !seen.has(s.name)) {
      seen.add(s.name);
      for (const inner of recordingExprs.get(s.name)!) {
        const h = excuse(inner, seen);
        if (h) return h;
      }
    }
  }
  return undefined;
}

const exprs: Expr[] = [
  ...dashboardExprs(substituteGrafanaVars),
  ...ruleExprs().filter((e) => e.source === 'recording'),
];

async function probesThatRan(): Promise<Set<string>> {
  const rows = await instantQuery(promBase, 'e2bbench_probe_last_run_timestamp_seconds{target="local"}');
  return new Set(rows.map((r) => r.metric.probe));
}

/** Failed runs as the exporter recorded them: probe, target, reason and message. */
async function failedRuns(): Promise<string> {
  const r = await fetch(`${exporterBase}/api/runs?success=false&skipped=false`).catch(() => undefined);
  if (!r?.ok) return '(exporter /api/runs unavailable)';
  const body = (await r.json()) as unknown;
  const runs = (Array.isArray(body) ? body : ((body as { runs?: unknown[] }).runs ?? [])) as {
    probe: string;
    target: string;
    reason?: string;
    message?: string;
  }[];
  return runs.map((x) => `  ${x.target} ${x.probe}: ${x.reason} ${x.message ?? ''}`.slice(0, 400)).join('\n');
}

async function emptyExprs(): Promise<Expr[]> {
  const empty: Expr[] = [];
  for (const e of exprs) if (!hasData(await instantQuery(promBase, e.expr))) empty.push(e);
  return empty;
}

describe('exporter + Prometheus + rules, end to end', () => {
  it(
    'every dashboard and recording-rule expression returns data',
    async () => {
      const started = Date.now();
      const deadline = started + DEADLINE_MS;
      let allRanAfter: number | undefined;
      let ran = new Set<string>();
      let missing: Expr[] = exprs;
      let excused: { e: Expr; why: string }[] = [];
      for (;;) {
        ran = await probesThatRan();
        if (expectedProbes.every((p) => ran.has(p))) {
          allRanAfter ??= Date.now() - started;
          const empty = await emptyExprs();
          excused = empty.flatMap((e) => {
            const a = excuse(e.expr);
            return a ? [{ e, why: `${a.selector}: ${a.reason}` }] : [];
          });
          missing = empty.filter((e) => !excuse(e.expr));
          if (missing.length === 0) break;
        }
        if (Date.now() > deadline) break;
        await sleep(3000);
      }
      const log = procs.find((p) => p.name === 'exporter')!.output();
      const failures = await failedRuns();
      console.log(
        `every probe had finished a run ${allRanAfter === undefined ? 'never' : `after ${Math.round(allRanAfter / 1000)} s`}; failed runs:\n${failures || '  none'}`,
      );
      expect(
        expectedProbes.filter((p) => !ran.has(p)),
        `probes without a finished run on target local:\n${log.slice(-4000)}`,
      ).toEqual([]);
      if (excused.length > 0)
        console.log(
          `${excused.length} of ${exprs.length} expressions excused by allow-empty.ts:\n` +
            excused.map(({ e, why }) => `  ${e.where}\n    ← ${why}`).join('\n'),
        );
      expect(
        missing.map((e) => `${e.where}: ${e.expr}`),
        `expressions without data (${exprs.length} checked); failed runs:\n${failures}`,
      ).toEqual([]);
    },
    DEADLINE_MS + 60_000,
  );

  it('promtool check metrics passes on the whole /metrics once every probe has run, every family populated', async () => {
    const body = await (await fetch(`${exporterBase}/metrics`)).text();
    const lint = run('promtool', ['check', 'metrics'], { input: body });
    const lintOutput = `${lint.stdout}${lint.stderr}`.trim();
    // A family without a sample is not linted at all: each must have one here.
    const sampled = new Set(body.split('\n').flatMap((l) => (l && !l.startsWith('#') ? [l.split(/[{ ]/)[0]] : [])));
    const family = (s: string) => s.replace(/_(bucket|sum|count)$/, '');
    const populated = new Set([...sampled].map(family));
    const empty = Object.keys(CATALOG).filter((n) => !populated.has(n) && !ALLOW_EMPTY.some((a) => a.selector === n));
    expect({ lintOutput, status: lint.status, empty }).toEqual({ lintOutput: '', status: 0, empty: [] });
  });

  it('allow-empty.ts holds no entry that has data (the list can only shrink)', async () => {
    const stale: string[] = [];
    for (const a of ALLOW_EMPTY) if (hasData(await instantQuery(promBase, a.selector))) stale.push(a.selector);
    expect(stale, 'these now have data: remove them from test/observability/allow-empty.ts').toEqual([]);
  });

  it('Prometheus evaluates every rule without error', async () => {
    const r = (await (await fetch(`${promBase}/api/v1/rules`)).json()) as {
      data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const groups = r.data.groups;
    expect(groups.length).toBe(loadRules().reduce((s, x) => s.add(`${x.file}/${x.group.name}`), new Set()).size);
    const bad = groups.flatMap((g) =>
      g.rules.filter((x) => x.health !== 'ok').map((x) => `${g.name}/${x.name}: ${x.health} ${x.lastError ?? ''}`),
    );
    expect(bad).toEqual([]);
  });

  it('histograms carry trace_id exemplars into Prometheus (what Grafana links to Jaeger)', async () => {
    for (const series of ['e2bbench_probe_run_seconds_bucket', 'e2bbench_sandbox_start_seconds_bucket']) {
      const found = await exemplars(promBase, series, 900);
      const ids = found.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id));
      expect(ids.length, series).toBeGreaterThan(0);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    }
  });
});
