import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, type ConnectionOpts } from 'e2b';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sandboxCodeExec } from '../../probes/sandbox/code-exec.js';
import { benchInstalledAt, ensureBench, openBenchSandbox } from '../../probes/sandbox/common.js';
import { localBench } from '../../src/template/bench-scripts.js';
import { startInSandbox } from '../../probes/sandbox/exec.js';
import { aggressorCommand } from '../../probes/sandbox/isolation.js';
import { runTool } from '../../probes/tools/index.js';
import { startLocalRuntime, type LocalRuntime } from '../../src/local/index.js';
import type { SandboxBroker } from '../../src/probe/sandboxes.js';
import type { RecordedSample } from '../../src/probe/types.js';
import type { RunRecord } from '../../src/results/run-record.js';
import { listOurSandboxes } from '../../src/targets/reaper.js';
import { makeTestContext } from '../helpers/context.js';
import { startExporter } from '../helpers/exporter.js';
import { SANDBOX_TEST_TIMEOUT_MS } from '../helpers/timeouts.js';
import { expectProbeErrorAsync } from '../probes/tools/expect-error.js';
import { brokenBenchCopy } from './bench-dir.js';
import {
  DEMO_PACKAGE,
  startIperf3Server,
  startPackageServer,
  type Iperf3Server,
  type PackageServer,
} from './servers.js';

// Every sandbox.* probe through the real exporter (config → runner → broker → probe) against the
// local runtime, which the unmodified e2b SDK drives like any E2B deployment. Tool runs are ~1 s;
// assertions are about plausibility, with wide margins where they compare speeds.
const canRun = process.getuid?.() === 0;
vi.setConfig({ testTimeout: SANDBOX_TEST_TIMEOUT_MS });
const hasRunsc = spawnSync('runsc', ['--version'], { stdio: 'ignore' }).status === 0;
// gVisor sandboxes get only their own loopback (runsc cannot checkpoint on the host network), so
// the probes that reach servers on the host run on the namespace driver only, whose sandboxes
// reach the host at their gateway address (isolated network, the default).
const DRIVERS = (['namespace', ...(hasRunsc ? (['gvisor'] as const) : [])] as const).map((d) => [d]);

type Run = RunRecord;

function values(run: Run, name: string, labels: Record<string, string> = {}): RecordedSample[] {
  return run.metrics.filter((m) => m.name === name && Object.entries(labels).every(([k, v]) => m.labels[k] === v));
}

function one(run: Run, name: string, labels: Record<string, string> = {}): number {
  const v = values(run, name, labels);
  expect(v, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return v[0].value;
}

function expectSuccess(run: Run): void {
  expect(run.success, `${run.probe}: ${run.reason} ${run.message}\n${run.logs.join('\n')}`).toBe(true);
}

describe.runIf(canRun).each(DRIVERS)('sandbox.* probes against the local runtime (%s driver)', (driver) => {
  const hostNetwork = driver === 'namespace';
  // Several sandboxes per run are exercised once (namespace); the slower gVisor pass uses one.
  const cpuSandboxes = driver === 'namespace' ? 2 : 1;
  let rt: LocalRuntime;
  let iperf: Iperf3Server;
  let pkgs: PackageServer;
  let h: Awaited<ReturnType<typeof startExporter>>;

  beforeAll(async () => {
    rt = await startLocalRuntime({ driver, maxSandboxes: 20 });
    const gateway = rt.network.gateway ?? '127.0.0.1';
    [iperf, pkgs] = await Promise.all([startIperf3Server(gateway), startPackageServer(gateway)]);
    const e2b = `{ api_url: "${rt.apiUrl}", sandbox_url: "${rt.sandboxUrl}", api_key: "${rt.apiKey}" }`;
    h = await startExporter(`
server: { listen: "127.0.0.1:0" }
enable_all_probes: false
targets:
  - { name: base, cloud_provider: local, template: base, e2b: ${e2b} }
  - { name: small, cloud_provider: local, template: small, e2b: ${e2b} }
probes:
  sandbox.cpu: { samples: 1, time: 1s, threads: [1, 2], sandboxes: ${cpuSandboxes} }
  sandbox.memory: { samples: 1, time: 1s, alloc_size: 64MiB, alloc_repeat: 2, latency_size: 32MiB, latency_time: 300ms }
  sandbox.disk: { samples: 1, runtime: 1s, size: 16MiB, random_iodepths: [1], sequential_iodepth: 4 }
  sandbox.network:
    samples: 2
    iperf3_server: "${gateway}:${iperf.port}"
    iperf3_time: 1s
    http_url: "${pkgs.objectUrl}"
  sandbox.code_exec: { scale: 0.3, startup_runs: 3 }
  sandbox.package_install:
    samples: 1
    pip_index_url: "${pkgs.pipIndexUrl}"
    npm_registry: "${pkgs.npmRegistry}"
    pip_packages: ["${DEMO_PACKAGE.pip}"]
    npm_packages: ["${DEMO_PACKAGE.npm}"]
  sandbox.container: { samples: 1 }
  sandbox.isolation: { samples: 1, time: 1s, warmup: 1s, aggressors: 2, aggressor_template: small, disk_size: 16MiB }
`);
  });

  afterEach(async () => {
    // A run whose test timed out is aborted and its sandboxes killed before anything is counted.
    await h.settle();
    // Whatever a probe did, none of its sandboxes (victims, aggressors) outlives the run.
    for (const t of h.exp.targets) expect(await listOurSandboxes(t)).toEqual([]);
    const conn: ConnectionOpts = { apiKey: rt.apiKey, apiUrl: rt.apiUrl };
    expect((await Sandbox.list(conn).nextItems()).length).toBe(0);
  });

  afterAll(async () => {
    await h?.stop();
    await rt?.stop();
    await iperf?.stop();
    await pkgs?.stop();
  });

  it('sandbox.cpu: per-thread scores, spec, versions, overhead', async () => {
    const base = await h.run('sandbox.cpu', 'base');
    expectSuccess(base);
    const small = await h.run('sandbox.cpu', 'small');
    expectSuccess(small);

    expect(values(base, 'e2bbench_sandbox_spec_info').map((m) => m.labels.vcpu)).toEqual(['2']);
    expect(values(small, 'e2bbench_sandbox_spec_info').map((m) => m.labels.vcpu)).toEqual(['1']);
    expect(values(base, 'e2bbench_tool_info', { tool: 'sysbench' })[0].labels.version).toMatch(/^1\.\d/);
    // One per-sandbox median per sandbox behind every published value.
    const results = base.details.results as { name: string; labels: Record<string, string>; samples: number[][] }[];
    const t1 = results.find((r) => r.name === 'e2bbench_cpu_events_per_second' && r.labels.threads === '1')!;
    expect(t1.samples).toHaveLength(cpuSandboxes);
    expect(base.phases.filter((p) => p.name === 'sandbox.create')).toHaveLength(cpuSandboxes);

    const ev = (run: Run, threads: string) => one(run, 'e2bbench_cpu_events_per_second', { scope: 'sandbox', threads });
    for (const run of [base, small]) {
      expect(ev(run, '1')).toBeGreaterThan(0);
      const steal = one(run, 'e2bbench_cpu_steal_ratio', { scope: 'sandbox' });
      expect(steal).toBeGreaterThanOrEqual(0);
      expect(steal).toBeLessThanOrEqual(1);
      expect(one(run, 'e2bbench_cpu_event_latency_seconds', { threads: '1', percentile: 'p95' })).toBeGreaterThan(0);
      // Host baseline ran: overhead = 1 − sandbox/host, below 1 whenever the sandbox scored at all.
      expect(one(run, 'e2bbench_cpu_virtualization_overhead_ratio', { threads: '1' })).toBeLessThan(1);
    }
    // How the scores compare (threads, vCPUs, quotas) is checked in limits.quiet.test.ts, alone.
  });

  it('sandbox.memory: bandwidth both ways, allocation latency per GiB, load latency', async () => {
    const run = await h.run('sandbox.memory', 'base');
    expectSuccess(run);
    for (const operation of ['read', 'write']) {
      expect(one(run, 'e2bbench_memory_bandwidth_bytes_per_second', { scope: 'sandbox', operation })).toBeGreaterThan(
        1e6,
      );
    }
    const alloc = run.details.alloc as { bytes: number; medianSeconds: number }[];
    expect(alloc[0].bytes).toBe(64 * 1024 * 1024);
    // Not 1 GiB, so not the seed's figure: a per-GiB one labelled with the size used (16 × the 64 MiB median).
    expect(values(run, 'e2bbench_memory_alloc_seconds')).toEqual([]);
    expect(
      one(run, 'e2bbench_memory_alloc_seconds_per_gib', { scope: 'sandbox', alloc_bytes: String(64 * 1024 * 1024) }),
    ).toBeCloseTo(alloc[0].medianSeconds * 16, 9);
    // The pointer chase ran in the sandbox's own node over the configured working set.
    const latency = one(run, 'e2bbench_memory_latency_seconds', { scope: 'sandbox' });
    expect(latency).toBeGreaterThan(10e-9);
    expect(latency).toBeLessThan(100e-6);
    const chase = alloc.find((r) => 'latency' in r) as unknown as { latency: { bytes: number; medianSeconds: number } };
    expect(chase.latency).toMatchObject({ bytes: 32 * 1024 * 1024, medianSeconds: latency });
    expect(run.phases.filter((p) => p.name === 'bench.memlat')).toHaveLength(1);
    const tools = values(run, 'e2bbench_tool_info').map((m) => m.labels.tool);
    expect(tools).toEqual(expect.arrayContaining(['sysbench', 'python3', 'node', 'e2b-bench']));
  });

  it('sandbox.container: no container starts in these sandboxes, and no figure is published', async () => {
    const run = await h.run('sandbox.container', 'base');
    expect(run.success).toBe(false);
    expect(values(run, 'e2bbench_container_start_seconds')).toEqual([]);
    // The built template has no OCI runtime: tool_missing naming the package. Where the runtime
    // serves its host-derived template instead (the host's /usr), a crun or runc installed on the
    // host is found, and fails to start a container in the nested namespaces (no cgroup fs, no
    // second /proc): command_failed with the runtime's own message.
    if (run.reason === 'tool_missing')
      expect(run.message).toMatch(
        /no container runtime in the sandbox \(crun or runc\): install the Debian package crun/,
      );
    else
      expect(run).toMatchObject({ reason: 'command_failed', message: expect.stringMatching(/^bash exited with code/) });
  });

  it('sandbox.disk: fio jobs as host.disk, labelled by pattern, depth and O_DIRECT', async () => {
    const run = await h.run('sandbox.disk', 'base');
    expectSuccess(run);
    const iops = values(run, 'e2bbench_disk_iops', { scope: 'sandbox' });
    expect(iops.map((m) => `${m.labels.pattern}/${m.labels.iodepth}`).sort()).toEqual([
      'randread/1',
      'randwrite/1',
      'seqread/4',
      'seqwrite/4',
    ]);
    expect(new Set(iops.map((m) => m.labels.direct)).size).toBe(1);
    for (const m of iops) expect(m.value).toBeGreaterThan(0);
    const lat = (p: string) =>
      one(run, 'e2bbench_disk_latency_seconds', { pattern: 'randread', iodepth: '1', percentile: p });
    expect(lat('p50')).toBeGreaterThan(0);
    expect(lat('p99')).toBeGreaterThanOrEqual(lat('p50'));
  });

  it.runIf(hostNetwork)('sandbox.network: iperf3 and HTTP from inside the sandbox, RTT and stability', async () => {
    const before = pkgs.hits.get('/object') ?? 0;
    const run = await h.run('sandbox.network', 'base');
    expectSuccess(run);
    const ip = `${rt.network.gateway ?? '127.0.0.1'}:${iperf.port}`;
    const http = new URL(pkgs.objectUrl).host;
    for (const direction of ['upload', 'download']) {
      expect(one(run, 'e2bbench_network_bandwidth_bytes_per_second', { endpoint: ip, direction })).toBeGreaterThan(1e6);
    }
    expect(
      one(run, 'e2bbench_network_bandwidth_bytes_per_second', { endpoint: http, direction: 'download' }),
    ).toBeGreaterThan(1e5);
    for (const endpoint of [ip, http]) {
      expect(one(run, 'e2bbench_network_stability_cv_ratio', { endpoint })).toBeGreaterThanOrEqual(0);
    }
    expect(one(run, 'e2bbench_network_rtt_seconds', { endpoint: http })).toBeGreaterThanOrEqual(0);
    expect(one(run, 'e2bbench_network_rtt_seconds', { endpoint: http })).toBeLessThan(1);
    // Two samples = two real downloads.
    expect((pkgs.hits.get('/object') ?? 0) - before).toBe(2);
  });

  it('sandbox.code_exec: Python and Node suites and interpreter start', async () => {
    const run = await h.run('sandbox.code_exec', 'base');
    expectSuccess(run);
    for (const runtime of ['python', 'node']) {
      expect(one(run, 'e2bbench_code_exec_score', { runtime })).toBeGreaterThan(0);
      expect(
        values(run, 'e2bbench_code_exec_seconds', { runtime })
          .map((m) => m.labels.benchmark)
          .sort(),
      ).toEqual(['fannkuch', 'json_roundtrip', 'nbody', 'regex', 'richards', 'spectral_norm']);
      const start = one(run, 'e2bbench_interpreter_start_seconds', { runtime });
      expect(start).toBeGreaterThan(0);
      expect(start).toBeLessThan(10);
    }
    const versions = run.details.versions as Record<string, string>;
    expect(versions.python3).toMatch(/^3\.\d+/);
    expect(versions.node).toMatch(/^\d+\.\d+/);
    expect(run.details.bench).toMatchObject({ version: versions['e2b-bench'] });
  });

  it.runIf(hostNetwork)('sandbox.package_install: pip and npm against a local index and registry', async () => {
    const run = await h.run('sandbox.package_install', 'base');
    expectSuccess(run);
    for (const manager of ['pip', 'npm']) {
      expect(one(run, 'e2bbench_package_install_seconds', { manager })).toBeGreaterThan(0);
    }
    expect(pkgs.hits.get('/files/e2bbench_demo-1.0.0-py3-none-any.whl')).toBeGreaterThanOrEqual(1);
    expect(pkgs.hits.get('/npm/e2bbench-demo/-/e2bbench-demo-1.0.0.tgz')).toBeGreaterThanOrEqual(1);
    const tools = values(run, 'e2bbench_tool_info').map((m) => m.labels.tool);
    expect(tools).toEqual(expect.arrayContaining(['pip', 'npm', 'python3']));
  });

  it('sandbox.isolation: ratios in [0, 1] per resource under aggressors, which are all killed', async () => {
    const run = await h.run('sandbox.isolation', 'base');
    expectSuccess(run);
    expect(run.phases.filter((p) => p.name === 'sandbox.create')).toHaveLength(3);
    for (const resource of ['cpu', 'memory', 'disk']) {
      // The local runtime is one node and says so: the aggressors ran beside the victim.
      const r = one(run, 'e2bbench_isolation_ratio', { resource, colocated: 'true' });
      expect(r).toBeGreaterThanOrEqual(0);
      expect(r).toBeLessThanOrEqual(1);
      expect(one(run, 'e2bbench_isolation_p99_inflation_ratio', { resource, colocated: 'true' })).toBeGreaterThan(0);
    }
    expect(run.details['placement.victim_0']).toEqual({
      victim: 'local',
      aggressors: ['local', 'local'],
      colocated: 'true',
    });
    const runs = run.details.runs as { resource: string; baseValue: number; loadedValue: number }[];
    for (const r of runs) {
      expect(r.baseValue).toBeGreaterThan(0);
      expect(r.loadedValue).toBeGreaterThan(0);
    }
    const specs = values(run, 'e2bbench_sandbox_spec_info').map((m) => `${m.labels.template}/${m.labels.vcpu}`);
    expect(specs.sort()).toEqual(['base/2', 'small/1']);
  });

  it('bench scripts: used in place when identical, uploaded otherwise; a wrong result fails the command', async () => {
    const conn = { apiKey: rt.apiKey, apiUrl: rt.apiUrl, sandboxUrl: rt.sandboxUrl };
    const created: Sandbox[] = [];
    const broker: SandboxBroker = {
      connection: conn,
      metadata: {},
      async create(o = {}) {
        const sbx = await Sandbox.create(o.template ?? 'base', conn);
        created.push(sbx);
        return sbx;
      },
      track() {},
      async kill(s) {
        await Sandbox.kill(typeof s === 'string' ? s : s.sandboxId, conn);
      },
      live: () => created.map((c) => c.sandboxId),
    };
    const ctx = makeTestContext(sandboxCodeExec, { sandboxes: broker });
    try {
      const sb = await openBenchSandbox(ctx, 'base');
      const bench = await localBench();
      const dir = await ensureBench(ctx, sb);
      const info = ctx.details.bench as { dir: string; uploaded: boolean };
      expect(info.dir).toBe(dir);
      // Whichever way it went, the directory now holds exactly our scripts; an empty one does not.
      expect(await benchInstalledAt(sb.exec, dir, bench, ctx.signal)).toBe(true);
      expect(await benchInstalledAt(sb.exec, '/tmp/no-such-bench', bench, ctx.signal)).toBe(false);
      if (info.uploaded) expect(ctx.phases.map((p) => p.name)).toContain('bench.upload');
      expect(await ensureBench(ctx, sb)).toBe(dir);

      // A kernel broken on purpose, run the way the probe runs it: no score, command_failed.
      const broken = brokenBenchCopy('python/suite.py', 'NBODY_DT = 0.01', 'NBODY_DT = 0.0101');
      try {
        await sb.sandbox.files.write('/tmp/broken-suite.py', readFileSync(join(broken.dir, 'python/suite.py'), 'utf8'));
      } finally {
        broken.remove();
      }
      await expectProbeErrorAsync(
        runTool(sb.exec, 'python3', ['/tmp/broken-suite.py', '--scale', '0.3', '--only', 'nbody'], {
          signal: ctx.signal,
          timeoutMs: 60_000,
        }),
        'command_failed',
        /wrong result: nbody/,
      );
    } finally {
      await Promise.all(created.map((c) => Sandbox.kill(c.sandboxId, conn)));
    }
  });

  it('a stopped load leaves no worker behind (fio forks; killing the command alone would not end them)', async () => {
    const conn = { apiKey: rt.apiKey, apiUrl: rt.apiUrl, sandboxUrl: rt.sandboxUrl };
    const sbx = await Sandbox.create('small', conn);
    try {
      const { cmd, args } = aggressorCommand(
        'disk',
        { vcpu: 1, memoryMb: 512 },
        {
          seconds: 60,
          directory: '/var/tmp',
          diskBytes: 8 * 1024 * 1024,
          direct: false,
        },
      );
      const load = await startInSandbox(sbx, cmd, args, { timeoutMs: 60_000, reap: '^fio' });
      const procs = async () => (await sbx.commands.run('ps -eo stat=,comm=')).stdout;
      // Wait until fio has forked its job process.
      for (
        let i = 0;
        i < 50 && (await procs()).split('\n').filter((l) => /^\S*[RSD]\S*\s+fio$/.test(l.trim())).length < 2;
        i++
      ) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(load.running()).toBe(true);
      await load.stop();
      const left = (await procs()).split('\n').filter((l) => /\bfio$/.test(l.trim()) && !l.trim().startsWith('Z'));
      expect(left).toEqual([]);
    } finally {
      await Sandbox.kill(sbx.sandboxId, conn);
    }
  });
});
