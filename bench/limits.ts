import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Exporter } from '../src/app/exporter.js';
import { defaultPlugins } from '../src/app/plugins.js';
import type { RunRecord } from '../src/results/run-record.js';
import { median } from '../src/stats/summary.js';
import { printRows, row, type Row } from './stats.js';

const progress = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);

/** An exporter on its embedded local runtime with the given driver and limits mode, no schedule. */
async function exporterWith(driver: string, limits: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'e2bbench-bench-'));
  const file = join(dir, 'config.yml');
  writeFileSync(
    file,
    `server: { listen: "127.0.0.1:0" }
local_runtime: { driver: ${driver}, pool_size: 0, limits: ${limits} }
enable_all_probes: false
targets:
  - { name: base, cloud_provider: local, template: base }
  - { name: half, cloud_provider: local, template: half }
probes:
  sandbox.cpu: { samples: 3, time: 2s, threads: [1, 2], host_baseline: false }
  sandbox.isolation: { samples: 3, time: 2s, warmup: 1s, aggressors: 2, aggressor_template: half, resources: [cpu] }
`,
  );
  const exp = await Exporter.start({ configFile: file, schedule: false, serve: false }, defaultPlugins());
  return {
    async run(probe: string, target: string): Promise<RunRecord> {
      const pc = exp.config.probes.get(probe)!;
      const t = exp.targets.find((x) => x.name === target)!;
      const r = await exp.runner.run({ ...pc, enabled: true }, t, { trigger: 'cli' });
      if (!r.success) throw new Error(`${probe} on ${target}: ${r.reason} ${r.message}`);
      return r;
    },
    async stop() {
      await exp.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function value(run: RunRecord, name: string, labels: Record<string, string>): number {
  const m = run.metrics.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (!m) throw new Error(`${run.probe}: no ${name} ${JSON.stringify(labels)}`);
  return m.value;
}

/**
 * What the local runtime's CPU limits do: sysbench cpu under 2 CPUs and under half a CPU of quota,
 * and the CPU isolation ratio of a half-CPU victim next to two half-CPU aggressors with the limits
 * on and off. n runs of each, interleaved per mode.
 */
export async function benchLimits(n: number): Promise<void> {
  const hasRunsc = spawnSync('runsc', ['--version'], { stdio: 'ignore' }).status === 0;
  for (const driver of hasRunsc ? (['namespace', 'gvisor'] as const) : (['namespace'] as const)) {
    const rows: Row[] = [];
    const ratios: Record<'on' | 'off', number[]> = { on: [], off: [] };
    const ev: Record<string, number[]> = {};
    for (const limits of [true, false]) {
      const mode = limits ? 'on' : 'off';
      const h = await exporterWith(driver, limits);
      try {
        for (let i = 0; i < n; i++) {
          progress(`${driver} limits ${mode}: ${i + 1}/${n}`);
          if (limits) {
            for (const template of ['base', 'half']) {
              const r = await h.run('sandbox.cpu', template);
              for (const threads of ['1', '2'])
                (ev[`${template} ${threads}t`] ??= []).push(
                  value(r, 'e2bbench_cpu_events_per_second', { scope: 'sandbox', threads }),
                );
            }
          }
          const iso = await h.run('sandbox.isolation', 'half');
          ratios[mode].push(value(iso, 'e2bbench_isolation_ratio', { resource: 'cpu' }));
        }
      } finally {
        await h.stop();
      }
    }
    const b2 = median(ev['base 2t']);
    for (const [name, samples] of Object.entries(ev))
      rows.push(
        row(
          `sysbench cpu events/s, ${name}`,
          samples,
          'ev/s',
          `${(median(samples) / b2).toFixed(2)}× base at 2 threads`,
        ),
      );
    rows.push(row('cpu isolation ratio, limits on', ratios.on, ''));
    rows.push(
      row(
        'cpu isolation ratio, limits off',
        ratios.off,
        '',
        `on − off at p50: ${(median(ratios.on) - median(ratios.off)).toFixed(2)}`,
      ),
    );
    printRows(`CPU limits (${driver} driver; sysbench at limits on)`, rows);
  }
}
