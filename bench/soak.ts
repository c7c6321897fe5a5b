import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, type Dirent } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_PROBES } from '../probes/index.js';
import { formatDuration, parseDuration } from '../src/config/duration.js';
import { Cgroups } from '../src/local/driver/cgroup.js';
import { parsePids } from '../src/local/driver/cgroup-parse.js';

/**
 * Soak: the exporter as its own process (the CLI's `serve`) on the embedded default target, every
 * probe at a short interval, for BENCH_SOAK_MINUTES (default 30). Samples what a leak would grow —
 * the exporter's RSS and open file descriptors, its descendant processes, the mounts, cgroups and
 * network namespaces of its runtime — at start, every BENCH_SOAK_SAMPLE_SECONDS (default 60) and at
 * the end, then what is left once it has stopped.
 *
 * Criterion for "flat": these counts rise and fall while runs hold sandboxes, so the soak compares
 * floors, after a warm-up (BENCH_SOAK_WARMUP_MINUTES, default a fifth of the run) in which the warm
 * pool fills and every probe runs once. A resource is flat when the minimum over the last third of
 * the samples after warm-up is at most the minimum over their first third (RSS: plus 10 %, for heap
 * growth that settles). What the stopped exporter leaves must be nothing.
 */
interface Sample {
  minute: number;
  rssMiB: number;
  fds: number;
  children: number;
  mounts: number;
  cgroups: number;
  netns: number;
  runs: number;
  failures: number;
  skipped: number;
}

type Resource = 'rssMiB' | 'fds' | 'children' | 'mounts' | 'cgroups' | 'netns';
const RESOURCES: Resource[] = ['rssMiB', 'fds', 'children', 'mounts', 'cgroups', 'netns'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * Every probe at `interval` with its timeout capped to it (a timeout may not exceed the interval),
 * few samples so each run is short, the heaviest scaled down.
 */
function soakConfig(port: number, dir: string, interval: string): string {
  const intervalMs = parseDuration(interval);
  if (intervalMs === undefined) throw new Error(`BENCH_SOAK_INTERVAL: not a duration: ${interval}`);
  const options: Record<string, string> = {
    'capacity.density': ', batch_size: 2, max_sandboxes: 4',
    'lifecycle.burst': ', count: 4',
    'sandbox.isolation': ', samples: 1',
  };
  const probes = ALL_PROBES.map((p) => {
    const timeout = Math.min(parseDuration(p.defaults.timeout)!, intervalMs);
    const samples = p.family === 'lifecycle' && p.name !== 'lifecycle.burst' ? ', samples: 3' : '';
    return `  ${p.name}: { interval: ${interval}, timeout: ${formatDuration(timeout)}${samples}${options[p.name] ?? ''} }`;
  });
  return [
    `server: { listen: "127.0.0.1:${port}" }`,
    'scheduler: { max_start_offset: 30s }',
    `local_runtime: { data_dir: "${join(dir, 'data')}" }`,
    `history: { path: "${join(dir, 'history.sqlite')}" }`,
    'targets:',
    '  - name: local',
    '    cloud_provider: local',
    'probes:',
    ...probes,
    '',
  ].join('\n');
}

/** pid → parent pid of every process on the machine. */
function parents(): Map<number, number> {
  const m = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      // The command name (2nd field) is in parentheses and may hold spaces: read after the last ')'.
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      m.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  return m;
}

function descendants(root: number): Set<number> {
  const ppid = parents();
  const out = new Set<number>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, parent] of ppid)
      if (!out.has(pid) && (parent === root || out.has(parent))) {
        out.add(pid);
        grew = true;
      }
  }
  return out;
}

const dirs = (p: string): Dirent[] => {
  try {
    return readdirSync(p, { withFileTypes: true }).filter((d) => d.isDirectory());
  } catch {
    return [];
  }
};

/** Directories below `p` (not counting `p`). */
function countDirs(p: string): number {
  return dirs(p).reduce((n, d) => n + 1 + countDirs(join(p, d.name)), 0);
}

/** The runtime's id: the name of the group under the parent that holds one of the exporter's descendants. */
function findRuntimeId(cg: Cgroups, pids: Set<number>): string | undefined {
  for (const parent of cg.parentDirs())
    for (const rt of dirs(parent))
      for (const sb of dirs(join(parent, rt.name))) {
        try {
          const procs = parsePids(readFileSync(join(parent, rt.name, sb.name, 'cgroup.procs'), 'utf8'));
          if (procs.some((p) => pids.has(p))) return rt.name;
        } catch {
          // The group went away while we looked.
        }
      }
  return undefined;
}

/** Sums of the probe counters in a Prometheus text exposition. */
function counterSums(text: string): { runs: number; failures: number; skipped: number; byProbe: Map<string, string> } {
  const sums = { runs: 0, failures: 0, skipped: 0 };
  const per = new Map<string, { runs: number; failures: Map<string, number>; skipped: Map<string, number> }>();
  for (const line of text.split('\n')) {
    const m = /^e2bbench_probe_(runs|failures|skipped)_total\{([^}]*)\} (\S+)/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const v = Number(m[3]);
    const p = per.get(labels.probe) ?? { runs: 0, failures: new Map(), skipped: new Map() };
    per.set(labels.probe, p);
    if (m[1] === 'runs') {
      sums.runs += v;
      p.runs += v;
    } else {
      sums[m[1] === 'failures' ? 'failures' : 'skipped'] += v;
      const into = m[1] === 'failures' ? p.failures : p.skipped;
      into.set(labels.reason, (into.get(labels.reason) ?? 0) + v);
    }
  }
  const fmt = (r: Map<string, number>) => [...r].map(([k, v]) => `${k} ${v}`).join(', ') || '0';
  const byProbe = new Map(
    [...per].sort().map(([name, p]) => [name, `| ${name} | ${p.runs} | ${fmt(p.failures)} | ${fmt(p.skipped)} |`]),
  );
  return { ...sums, byProbe };
}

export async function benchSoak(): Promise<void> {
  const minutes = Number(process.env.BENCH_SOAK_MINUTES ?? 30);
  const everyMs = Number(process.env.BENCH_SOAK_SAMPLE_SECONDS ?? 60) * 1000;
  const interval = process.env.BENCH_SOAK_INTERVAL ?? '3m';
  const warmup = Number(process.env.BENCH_SOAK_WARMUP_MINUTES ?? minutes / 5);
  const dir = mkdtempSync(join(tmpdir(), 'e2bbench-soak-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(join(dir, 'config.yml'), soakConfig(port, dir, interval));
  const bin = fileURLToPath(new URL('../bin/e2b-bench.js', import.meta.url));
  const child = spawn(process.execPath, [bin, 'serve', '--config', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const pid = child.pid!;
  const cg = Cgroups.detect();
  const dataDir = join(dir, 'data');
  let runtimeId: string | undefined;
  let lastKids = new Set<number>();
  const t0 = Date.now();

  const sample = async (): Promise<Sample> => {
    const kids = descendants(pid);
    lastKids = kids;
    runtimeId ??= findRuntimeId(cg, kids);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    const mountinfo = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n');
    const netnsNames = runtimeId ? readdirSafe('/run/netns').filter((n) => n.includes(runtimeId!)) : [];
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const c = counterSums(metrics);
    return {
      minute: (Date.now() - t0) / 60_000,
      rssMiB: rssKiB / 1024,
      fds: readdirSync(`/proc/${pid}/fd`).length,
      children: kids.size,
      mounts: mountinfo.filter((l) => l.split(' ')[4]?.startsWith(dataDir)).length,
      cgroups: runtimeId ? cg.parentDirs().reduce((n, p) => n + countDirs(join(p, runtimeId!)), 0) : 0,
      netns: netnsNames.length,
      runs: c.runs,
      failures: c.failures,
      skipped: c.skipped,
    };
  };

  const samples: Sample[] = [];
  let lastMetrics = '';
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the exporter exited (${child.exitCode}): ${stderr}`);
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() - t0 > 300_000) throw new Error(`the exporter was not ready after 5 minutes: ${stderr}`);
      await sleep(500);
    }
    console.log(
      `\n## Soak: exporter pid ${pid}, every probe at interval ${interval}, ${minutes} min, a sample every ${everyMs / 1000} s\n`,
    );
    console.log('| minute | RSS MiB | fds | child processes | mounts | cgroups | netns | runs | failed | skipped |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    const print = (s: Sample) =>
      console.log(
        `| ${s.minute.toFixed(1)} | ${s.rssMiB.toFixed(1)} | ${s.fds} | ${s.children} | ${s.mounts} | ${s.cgroups} | ${s.netns} | ${s.runs} | ${s.failures} | ${s.skipped} |`,
      );
    const end = Date.now() + minutes * 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the exporter exited (${child.exitCode}): ${stderr}`);
      const s = await sample();
      samples.push(s);
      print(s);
      if (Date.now() >= end) break;
      await sleep(Math.min(everyMs, Math.max(0, end - Date.now())));
    }
    lastMetrics = await (await fetch(`${url}/metrics`)).text();
  } finally {
    child.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(120_000).then(() => 'timeout' as const)]);
    if (code === 'timeout') child.kill('SIGKILL');
  }

  // What the stopped exporter left behind: all of it should be nothing.
  const leftMounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4]?.startsWith(dataDir)).length;
  const leftCgroups = runtimeId ? cg.parentDirs().reduce((n, p) => n + countDirs(join(p, runtimeId!)), 0) : 0;
  const leftNetns = runtimeId ? readdirSafe('/run/netns').filter((n) => n.includes(runtimeId!)).length : 0;
  // Its descendants were reparented when it ended: look for the last sample's pids.
  const leftProcs = [...lastKids].filter((p) => parents().has(p)).length;

  const c = counterSums(lastMetrics);
  console.log('\n| probe | runs | failed (reason n) | skipped (reason n) |');
  console.log('|---|---|---|---|');
  for (const line of c.byProbe.values()) console.log(line);

  const judged = samples.filter((s) => s.minute >= warmup);
  const third = Math.max(1, Math.floor(judged.length / 3));
  const first = judged.slice(0, third);
  const last = judged.slice(-third);
  console.log('\n| resource | floor, first third | floor, last third | flat |');
  console.log('|---|---|---|---|');
  let allFlat = true;
  for (const r of RESOURCES) {
    const a = Math.min(...first.map((s) => s[r]));
    const b = Math.min(...last.map((s) => s[r]));
    const flat = r === 'rssMiB' ? b <= a * 1.1 : b <= a;
    allFlat &&= flat;
    console.log(
      `| ${r} | ${a.toFixed(r === 'rssMiB' ? 1 : 0)} | ${b.toFixed(r === 'rssMiB' ? 1 : 0)} | ${flat ? 'flat' : 'GROWS'} |`,
    );
  }
  const clean = leftMounts + leftCgroups + leftNetns + leftProcs === 0;
  console.log(
    `\nafter stop: ${leftMounts} mounts, ${leftCgroups} cgroups, ${leftNetns} netns, ${leftProcs} processes left` +
      ` (runtime ${runtimeId ?? 'not found'})`,
  );
  console.log(
    `verdict: ${allFlat ? 'flat' : 'NOT flat'}${clean ? '' : ', leaves resources behind'} ` +
      `(after ${warmup} min of warm-up, floors of the last third of the samples ≤ those of the first third, ` +
      `RSS + 10 %; ${judged.length} of ${samples.length} samples judged)`,
  );
  // Never delete through a mount that is still there.
  if (leftMounts === 0) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}: mounts are left in it`);
}

function readdirSafe(p: string): string[] {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
}
