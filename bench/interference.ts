import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Exporter } from '../src/app/exporter.js';
import { defaultPlugins } from '../src/app/plugins.js';
import type { RunRecord } from '../src/results/run-record.js';
import { median } from '../src/stats/summary.js';

/** One probe of each family other than host.cpu's, kept short; storage needs a bucket (none here). */
const BESIDE: Record<string, string> = {
  lifecycle: 'lifecycle.warm_start',
  sandbox: 'sandbox.cpu',
  'sandbox (isolation aggressors)': 'sandbox.isolation',
  host: 'host.disk',
  capacity: 'capacity.density',
};

const CONFIG = (historyPath: string, exclusive: boolean, cpuTime: string) => `
enable_all_probes: false
history: { path: "${historyPath}" }
scheduler: { max_concurrent_runs: 4, exclusive_load: ${exclusive} }
targets:
  - { name: local, cloud_provider: local, template: base, max_concurrent_runs: 4 }
probes:
  host.cpu: { time: ${cpuTime} }
  lifecycle.warm_start: { samples: 10, pause_between: 0.2 }
  sandbox.cpu: { samples: 1, time: ${cpuTime} }
  sandbox.isolation: { samples: 1, time: 3s }
  host.disk: { samples: 1, runtime: 2s, random_iodepths: [1, 16] }
  capacity.density: { samples: 1, batch_size: 3, max_sandboxes: 6 }
`;

/** host.cpu events/s by thread count, from a run's recorded samples. */
function cpuScores(run: RunRecord): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of run.metrics)
    if (m.name === 'e2bbench_cpu_events_per_second' && m.labels.scope === 'host') out[m.labels.threads] = m.value;
  return out;
}

/**
 * host.cpu alone (repeated: the noise band) and beside one probe of every other family, each pair
 * started through the dispatcher at the same moment, as the scheduler would when both are due.
 * With exclusive_load (the default) the dispatcher makes host.cpu wait for the machine, so every
 * ratio should sit within the band of the solo runs; BENCH_EXCLUSIVE=false shows what it prevents.
 * Solo runs are interleaved with the pairs so a drift of the machine's load shows in the band.
 */
export async function benchInterference(soloRuns: number): Promise<void> {
  const exclusive = process.env.BENCH_EXCLUSIVE !== 'false';
  const cpuTime = process.env.BENCH_CPU_TIME ?? '5s';
  const dir = mkdtempSync(join(tmpdir(), 'e2bbench-interference-'));
  const file = join(dir, 'config.yml');
  writeFileSync(file, CONFIG(join(dir, 'history.sqlite'), exclusive, cpuTime));
  const progress = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
  const load: number[] = [loadavg()[0]];
  const exp = await Exporter.start({ configFile: file, serve: false, schedule: false }, defaultPlugins());
  const run = async (probe: string): Promise<RunRecord> => {
    // Host probes measure this machine: no target to name.
    const found = exp.dispatcher.resolve(probe, probe.startsWith('host.') ? undefined : 'local', {
      includeDisabled: true,
    });
    if (!found.ok) throw new Error(found.message);
    const a = await exp.dispatcher.dispatch({ pair: found.pair, trigger: 'cli' });
    if (a.kind !== 'started') throw new Error(`${probe}: ${a.message}`);
    const r = await a.done;
    progress(`${probe}: ${r.success ? 'ok' : `failed (${r.message})`} in ${r.durationSeconds.toFixed(1)} s`);
    load.push(loadavg()[0]);
    return r;
  };
  const solo: Record<string, number>[] = [];
  const beside: { family: string; probe: string; scores?: Record<string, number>; note: string }[] = [];
  try {
    const soloOnce = async () => {
      const r = await run('host.cpu');
      if (r.success) solo.push(cpuScores(r));
    };
    const families = Object.entries(BESIDE);
    for (let i = 0; i < Math.max(soloRuns, families.length + 1); i++) {
      await soloOnce();
      const next = families[i];
      if (!next) continue;
      const [family, probe] = next;
      // The other run first, host.cpu a moment later: both due together, the other one underway.
      const other = run(probe);
      await new Promise((r) => setTimeout(r, 500));
      const [o, h] = await Promise.all([other, run('host.cpu')]);
      // Overlap from the run records' times: the slot of this machine or its lock may have kept them apart.
      const span = (r: RunRecord) => [Date.parse(r.startedAt), Date.parse(r.endedAt)];
      const [os, oe] = span(o);
      const [hs, he] = span(h);
      const overlap = Math.max(0, Math.min(oe, he) - Math.max(os, hs)) / 1000;
      const waited = h.machine?.waitedSeconds ?? 0;
      const note = `${o.success ? 'ran' : `failed: ${o.message}`}; overlap ${overlap.toFixed(1)} s; host.cpu waited ${waited.toFixed(1)} s for the machine lock`;
      beside.push({ family, probe, scores: h.success ? cpuScores(h) : undefined, note });
    }
  } finally {
    await exp.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const threads = [...new Set(solo.flatMap((s) => Object.keys(s)))].sort((a, b) => Number(a) - Number(b));
  console.log(
    `\n## Interference: host.cpu (sysbench ${cpuTime}) alone and beside each family (exclusive_load: ${exclusive})\n`,
  );
  console.log(
    `load average (1 min) during the bench: ${Math.min(...load).toFixed(1)} … ${Math.max(...load).toFixed(1)} on ${cpus().length} cores` +
      ' (other work on the machine is part of the noise); storage: not run (no bucket configured)\n',
  );
  console.log('| host.cpu | threads | events/s | ratio to solo median | within noise | note |');
  console.log('|---|---|---|---|---|---|');
  const band: Record<string, { med: number; dev: number }> = {};
  for (const t of threads) {
    const v = solo.map((s) => s[t]).filter((x) => x !== undefined);
    const med = median(v);
    // The noise band: the widest deviation of a solo run from the solo median.
    const dev = Math.max(...v.map((x) => Math.abs(x / med - 1)));
    band[t] = { med, dev };
    console.log(
      `| alone (n=${v.length}) | ${t} | ${med.toFixed(0)} (${Math.min(...v).toFixed(0)} … ${Math.max(...v).toFixed(0)}) | 1 ± ${dev.toFixed(3)} | noise band | |`,
    );
  }
  for (const b of beside)
    for (const t of threads) {
      const v = b.scores?.[t];
      if (v === undefined) {
        console.log(`| beside ${b.family} (${b.probe}) | ${t} | not measured | | | ${b.note} |`);
        continue;
      }
      const ratio = v / band[t].med;
      const within = Math.abs(ratio - 1) <= band[t].dev;
      console.log(
        `| beside ${b.family} (${b.probe}) | ${t} | ${v.toFixed(0)} | ${ratio.toFixed(3)} | ${within ? 'yes' : 'no'} | ${b.note} |`,
      );
    }
}
