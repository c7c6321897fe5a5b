import { posix } from 'node:path';
import { z } from 'zod';
import { bytes, duration } from '../../src/config/schema.js';
import { ProbeError } from '../../src/probe/reasons.js';
import { median } from '../../src/stats/summary.js';
import { placementOfRun } from '../../src/targets/placement.js';
import { sleep } from '../../src/probe/sleep.js';
import {
  bench,
  fioArgs,
  fioStatsFor,
  outputTail,
  probeDirectIo,
  runFio,
  runOptions,
  runSysbenchCpu,
  runSysbenchMemory,
  type FioJob,
  type RunOptions,
  wholeSeconds,
} from '../tools/index.js';
import {
  closeBenchSandbox,
  measureSandboxes,
  openBenchSandbox,
  recordSandboxVersions,
  defineSandboxProbe,
  threadsFor,
  type BenchSandbox,
} from './common.js';
import { startInSandbox, type BackgroundCommand } from './exec.js';

export const RESOURCES = ['cpu', 'memory', 'disk'] as const;
export type Resource = (typeof RESOURCES)[number];

/** One victim measurement: throughput (higher is better) and its p99 latency in seconds. */
export interface VictimSample {
  value: number;
  p99Seconds: number;
}

/** 1 − |loaded − base| / base, clamped to [0, 1]: 1 = the neighbours changed nothing. */
export function isolationRatio(base: number, loaded: number): number {
  if (!(base > 0)) return 0;
  return Math.min(1, Math.max(0, 1 - Math.abs(loaded - base) / base));
}

/** Loaded p99 / baseline p99 (1 = no inflation); undefined without a usable baseline. */
export function p99Inflation(baseP99: number, loadedP99: number): number | undefined {
  return baseP99 > 0 && Number.isFinite(loadedP99) ? loadedP99 / baseP99 : undefined;
}

export type Colocated = 'true' | 'false' | 'unknown';

/**
 * Whether the aggressors ran beside the victim: `true` when at least one shares its node, `false`
 * when the control plane placed them all elsewhere (then a ratio near 1 says nothing about
 * isolation), `unknown` without placement for every one of them.
 */
export function colocation(victim: string | undefined, aggressors: (string | undefined)[]): Colocated {
  if (!victim || aggressors.some((a) => a === undefined)) return 'unknown';
  return aggressors.includes(victim) ? 'true' : 'false';
}

/** The load each aggressor sandbox runs for one resource, sized to its own spec. */
export function aggressorCommand(
  resource: Resource,
  spec: { vcpu: number; memoryMb: number },
  p: { seconds: number; directory: string; diskBytes: number; direct: boolean },
): { cmd: string; args: string[] } {
  const workers = threadsFor(spec);
  const limit = ['--timeout', `${p.seconds}s`, '--quiet'];
  if (resource === 'cpu') return { cmd: 'stress-ng', args: ['--cpu', String(workers), ...limit] };
  if (resource === 'memory') {
    // Half the sandbox's memory across the workers: pressure on bandwidth, not an OOM kill.
    const perWorker = Math.max(16, Math.floor(spec.memoryMb / 2 / workers));
    return { cmd: 'stress-ng', args: ['--vm', String(workers), '--vm-bytes', `${perWorker}M`, ...limit] };
  }
  const job: FioJob = {
    name: 'aggressor',
    filename: posix.join(p.directory, 'e2bbench-aggressor.dat'),
    sizeBytes: p.diskBytes,
    blockSize: '4k',
    rw: 'randwrite',
    iodepth: 16,
    direct: p.direct,
    runtimeSeconds: p.seconds,
  };
  return { cmd: 'fio', args: fioArgs(job) };
}

interface Measure {
  (sb: BenchSandbox): Promise<VictimSample>;
}

export const sandboxIsolation = defineSandboxProbe({
  name: 'sandbox.isolation',
  description:
    'Noisy-neighbour test: a victim sandbox measures CPU (sysbench cpu), memory (sysbench memory write) and disk (fio 4k randread) alone, then while K aggressor sandboxes run stress-ng cpu / stress-ng vm / fio randwrite; isolation ratio = 1 − |loaded − base| / base and p99 latency inflation per resource. Aggressors are always killed.',
  defaults: { interval: '1h', timeout: '15m', samples: 3 },
  options: {
    /** Aggressor sandboxes (K). */
    aggressors: z.number().int().min(1).max(20).default(2),
    /** Template of the aggressors; default the victim's. */
    aggressor_template: z.string().min(1).optional(),
    resources: z
      .array(z.enum(RESOURCES))
      .min(1)
      .default([...RESOURCES]),
    /** Length of each victim measurement. */
    time: duration.default('5s'),
    /** Load time before the victim measures again (lets the aggressors ramp up). */
    warmup: duration.default('1s'),
    /** Directory for the victim's and the aggressors' fio files (inside each sandbox). */
    directory: z.string().startsWith('/').default('/var/tmp'),
    /** fio file size of the victim and of each aggressor. */
    disk_size: bytes.default('128MiB'),
  },
  load: ['cpu', 'memory', 'disk'],
  async run(ctx) {
    const opts = ctx.settings.options;
    const o = runOptions(ctx);
    const seconds = wholeSeconds(opts.time);
    // Versions come from the victim and the first aggressor, so the probe records them itself.
    await measureSandboxes(ctx, { raw: 'runs' }, async (victim, m) => {
      const aggressors: BenchSandbox[] = [];
      // Killed here and, should the run be cut short first, by the runner (the broker kills all).
      const killAggressors = async () => {
        await Promise.all(aggressors.splice(0).map((a) => closeBenchSandbox(ctx, a)));
      };
      ctx.defer('kill aggressor sandboxes', killAggressors);
      try {
        const template = opts.aggressor_template ?? victim.template;
        for (let k = 0; k < opts.aggressors; k++) {
          aggressors.push(await openBenchSandbox(ctx, template, 1000 * (victim.index + 1) + k));
        }
        if (victim.index === 0) {
          // The victim measures with sysbench (cpu, memory) and fio (disk); the aggressors load with
          // stress-ng (cpu, memory) and fio (disk). On a clash (fio) the victim's version is kept.
          const victimVersions = await recordSandboxVersions(ctx, victim.exec, {
            tools: [...new Set(opts.resources.map((r) => (r === 'disk' ? 'fio' : 'sysbench')))],
          });
          await recordSandboxVersions(ctx, aggressors[0].exec, {
            tools: [...new Set(opts.resources.map((r) => (r === 'disk' ? 'fio' : 'stress-ng')))],
            extra: victimVersions,
          });
        }
        const colocated = await whereAggressorsRan(victim, aggressors);
        const direct = opts.resources.includes('disk') ? await directIo(victim) : false;
        const measures: Record<Resource, Measure> = {
          cpu: (sb) => measureCpu(sb, seconds, o),
          memory: (sb) => measureMemory(sb, seconds, o),
          disk: (sb) => measureDisk(sb, { seconds, directory: opts.directory, sizeBytes: opts.disk_size, direct }, o),
        };

        const base: Partial<Record<Resource, VictimSample[]>> = {};
        for (const r of opts.resources) base[r] = await samples(() => measures[r](victim), `baseline.${r}`);

        for (const r of opts.resources) {
          const loadSeconds = Math.ceil(opts.warmup / 1000) + seconds * ctx.settings.samples + 30;
          const loads: BackgroundCommand[] = [];
          let loaded: VictimSample[];
          try {
            for (const a of aggressors) {
              const { cmd, args } = aggressorCommand(r, a.spec, {
                seconds: loadSeconds,
                directory: opts.directory,
                diskBytes: opts.disk_size,
                direct,
              });
              // Workers are named after their tool (stress-ng-cpu, stress-ng-vm, fio).
              const reap = `^${cmd}`;
              loads.push(await startInSandbox(a.sandbox, cmd, args, { timeoutMs: loadSeconds * 1000, reap }));
            }
            await sleep(opts.warmup, ctx.signal);
            loaded = await samples(() => measures[r](victim), `loaded.${r}`);
            // A load that died early (missing tool, OOM) would pass off an idle neighbour as isolation.
            const dead = loads.find((l) => !l.running());
            if (dead) {
              const res = dead.result();
              throw new ProbeError(
                'command_failed',
                `aggressor ${r} load exited early (code ${res.exitCode}): ${outputTail(res.stderr || res.stdout)}`,
              );
            }
          } finally {
            await Promise.all(loads.map((l) => l.stop()));
          }
          const b = base[r]!;
          const baseValue = median(b.map((s) => s.value));
          const loadedValue = median(loaded.map((s) => s.value));
          const baseP99 = median(b.map((s) => s.p99Seconds));
          const loadedP99 = median(loaded.map((s) => s.p99Seconds));
          m.add('e2bbench_isolation_ratio', { resource: r, colocated }, isolationRatio(baseValue, loadedValue));
          const inflation = p99Inflation(baseP99, loadedP99);
          if (inflation !== undefined) {
            m.add('e2bbench_isolation_p99_inflation_ratio', { resource: r, colocated }, inflation);
          }
          m.keep({
            resource: r,
            colocated,
            baseline: b,
            loaded,
            baseValue,
            loadedValue,
            baseP99,
            loadedP99,
          });
        }
      } finally {
        await killAggressors();
      }
    });

    async function samples(fn: () => Promise<VictimSample>, what: string): Promise<VictimSample[]> {
      const out: VictimSample[] = [];
      for (let i = 0; i < ctx.settings.samples; i++) out.push(await bench(ctx, what, fn));
      return out;
    }

    /** Nodes of the victim and its aggressors, from the control plane; logged and kept in the run record. */
    async function whereAggressorsRan(victim: BenchSandbox, aggressors: BenchSandbox[]): Promise<Colocated> {
      let nodes = new Map<string, string>();
      try {
        nodes = await placementOfRun(ctx.services, ctx.runId, ctx.signal);
      } catch (err) {
        ctx.log(`aggressor placement unknown: ${(err as Error).message}`);
      }
      const victimNode = nodes.get(victim.sandbox.sandboxId);
      const aggressorNodes = aggressors.map((a) => nodes.get(a.sandbox.sandboxId));
      const colocated = colocation(victimNode, aggressorNodes);
      ctx.detail(`placement.victim_${victim.index}`, {
        victim: victimNode ?? null,
        aggressors: aggressorNodes,
        colocated,
      });
      if (colocated === 'false') ctx.log('no aggressor ran on the victim node: the ratio is no isolation result');
      return colocated;
    }

    async function directIo(victim: BenchSandbox): Promise<boolean> {
      const d = await probeDirectIo(victim.exec, posix.join(opts.directory, 'e2bbench-victim.dat'), o);
      if (!d) ctx.log(`O_DIRECT not supported in ${opts.directory}: disk isolation measured with buffered I/O`);
      return d;
    }
  },
});

async function measureCpu(sb: BenchSandbox, seconds: number, o: RunOptions): Promise<VictimSample> {
  const r = await runSysbenchCpu(sb.exec, { threads: threadsFor(sb.spec), seconds, percentile: 99 }, o);
  return { value: r.eventsPerSecond, p99Seconds: r.latencySeconds.percentile };
}

async function measureMemory(sb: BenchSandbox, seconds: number, o: RunOptions): Promise<VictimSample> {
  const r = await runSysbenchMemory(
    sb.exec,
    { operation: 'write', seconds, threads: threadsFor(sb.spec), percentile: 99 },
    { ...o, timeoutMs: seconds * 1000 + 60_000 },
  );
  return { value: r.bytesPerSecond, p99Seconds: r.percentileSeconds! };
}

async function measureDisk(
  sb: BenchSandbox,
  p: { seconds: number; directory: string; sizeBytes: number; direct: boolean },
  o: RunOptions,
): Promise<VictimSample> {
  const job: FioJob = {
    name: 'victim_randread',
    filename: posix.join(p.directory, 'e2bbench-victim.dat'),
    sizeBytes: p.sizeBytes,
    blockSize: '4k',
    rw: 'randread',
    iodepth: 4,
    direct: p.direct,
    runtimeSeconds: p.seconds,
  };
  const stats = fioStatsFor(job, await runFio(sb.exec, job, o));
  return { value: stats.iops, p99Seconds: stats.clatSeconds.p99 ?? NaN };
}
