// Plumbing shared by the in-sandbox probes: sandbox creation with its recorded spec, the bench
// scripts (uploaded when the template lacks them), tool and runtime versions, and the
// median-of-per-sandbox-medians aggregation. Probe files only measure.
import { posix } from 'node:path';
import type { Sandbox } from 'e2b';
import { z } from 'zod';
import type { MetricName } from '../../exporters/prometheus/catalog.js';
import type { Labels } from '../../exporters/prometheus/registry.js';
import { ProbeError } from '../../src/probe/reasons.js';
import type { Probe, ProbeContext } from '../../src/probe/types.js';
import { median } from '../../src/stats/summary.js';
import { localBench, type LocalBench } from '../../src/template/bench-scripts.js';
import { publishVersions, runTool, toolVersion, type Exec, type RunOptions } from '../tools/index.js';
import { sandboxExec } from './exec.js';
import { parseCurlVersion } from '../tools/parsers/curl.js';
import { parseRuntimeVersion, RUNTIME_COMMANDS, type Runtime } from './parsers/runtime-version.js';

/** Options every sandbox.* probe takes besides its own. */
const sandboxOptionsShape = {
  /** Sandboxes measured one after another; each metric is the median of the per-sandbox medians. */
  sandboxes: z.number().int().min(1).max(20).default(1),
  /** Template to measure; default the target's. */
  template: z.string().min(1).optional(),
};

/** The options of a sandbox.* probe: the common ones and its own, unknown keys refused. */
export type SandboxProbeOptions<T extends z.ZodRawShape> = z.ZodObject<typeof sandboxOptionsShape & T, 'strict'>;

/** A sandbox.* probe as its file declares it: its own options as a zod shape. */
export type SandboxProbeSpec<T extends z.ZodRawShape> = Omit<Probe, 'family' | 'requires' | 'options' | 'run'> & {
  options: T;
  run(ctx: ProbeContext<z.output<SandboxProbeOptions<T>>>): Promise<void>;
};

/**
 * Declares a sandbox.* probe: family `sandbox`, run only where the target has a sandbox service,
 * and the common options (`sandboxes`, `template`) merged into its own.
 */
export function defineSandboxProbe<T extends z.ZodRawShape>(spec: SandboxProbeSpec<T>): Probe<SandboxProbeOptions<T>> {
  const options = z.object({ ...sandboxOptionsShape, ...spec.options }).strict();
  return { ...spec, family: 'sandbox', requires: ['sandbox'], options };
}

export interface SandboxSpec {
  vcpu: number;
  memoryMb: number;
}

/** Worker threads that use a sandbox's CPUs: a fractional quota (0.5 vCPU) still needs one. */
export function threadsFor(spec: { vcpu: number }): number {
  return Math.max(1, Math.ceil(spec.vcpu));
}

export interface BenchSandbox {
  index: number;
  template: string;
  sandbox: Sandbox;
  exec: Exec;
  spec: SandboxSpec;
}

/** Template a probe measures: its own option, else the target's. */
export function templateOf(ctx: ProbeContext<{ template?: string }>): string {
  return ctx.settings.options.template ?? ctx.target.template;
}

const specsRecorded = new WeakMap<ProbeContext<unknown>, Set<string>>();

/** Creates one sandbox (a `sandbox.create` span) and records its spec as e2bbench_sandbox_spec_info. */
export async function openBenchSandbox(ctx: ProbeContext<unknown>, template: string, index = 0): Promise<BenchSandbox> {
  const sandbox = (await ctx.phase('sandbox.create', () => ctx.sandboxes.create({ template }))).value;
  const info = await sandbox.getInfo();
  const spec = { vcpu: info.cpuCount, memoryMb: info.memoryMB };
  const labels = { probe: ctx.probe, template, vcpu: String(spec.vcpu), memory_mb: String(spec.memoryMb) };
  // Once per distinct spec and run, however many sandboxes share it.
  const key = JSON.stringify(labels);
  const seen = specsRecorded.get(ctx) ?? new Set<string>();
  specsRecorded.set(ctx, seen);
  if (!seen.has(key)) {
    seen.add(key);
    ctx.gauge('e2bbench_sandbox_spec_info', labels, 1);
  }
  return { index, template, sandbox, exec: sandboxExec(sandbox), spec };
}

/** Kills a sandbox now (the run would at its end anyway); never throws. */
export async function closeBenchSandbox(ctx: ProbeContext<unknown>, sb: BenchSandbox): Promise<void> {
  try {
    await ctx.sandboxes.kill(sb.sandbox);
  } catch (err) {
    ctx.log(`could not kill sandbox ${sb.sandbox.sandboxId} (the run end will retry): ${(err as Error).message}`);
  }
}

/**
 * Runs `fn` on `options.sandboxes` sandboxes, one at a time (so they never compete with each other), each
 * killed as soon as it is done.
 */
async function forEachSandbox<T>(
  ctx: ProbeContext<{ sandboxes: number; template?: string }>,
  fn: (sb: BenchSandbox, index: number) => Promise<T>,
): Promise<T[]> {
  const template = templateOf(ctx);
  const out: T[] = [];
  for (let i = 0; i < ctx.settings.options.sandboxes; i++) {
    ctx.signal.throwIfAborted();
    const sb = await openBenchSandbox(ctx, template, i);
    try {
      out.push(await fn(sb, i));
    } finally {
      await closeBenchSandbox(ctx, sb);
    }
  }
  return out;
}

// ---------- versions ----------

/** `python3 --version` / `node --version` inside the sandbox; a missing interpreter → tool_missing. */
export async function runtimeVersion(exec: Exec, runtime: Runtime, opts: RunOptions): Promise<string> {
  const cmd = RUNTIME_COMMANDS[runtime];
  const r = await runTool(exec, cmd, ['--version'], { ...opts, timeoutMs: opts.timeoutMs ?? 15_000 });
  return parseRuntimeVersion(runtime, r.stdout || r.stderr);
}

/** Tools the shared version parsers do not know, with their own `--version` parser. */
const OTHER_VERSION_PARSERS: Record<string, (text: string) => string> = { curl: parseCurlVersion };

async function sandboxToolVersion(exec: Exec, tool: string, opts: RunOptions): Promise<string> {
  const parse = OTHER_VERSION_PARSERS[tool];
  if (!parse) return toolVersion(exec, tool, opts);
  const r = await runTool(exec, tool, ['--version'], { ...opts, timeoutMs: opts.timeoutMs ?? 15_000 });
  return parse(r.stdout || r.stderr);
}

/**
 * Records the versions of the tools and interpreters a probe runs in the sandbox (with `bench`,
 * of the bench scripts; `extra` = versions the probe looked up itself) as e2bbench_tool_info. Fails with tool_missing before any
 * measurement when one is absent.
 */
export interface VersionRequest {
  tools?: string[];
  runtimes?: Runtime[];
  bench?: boolean;
  extra?: Record<string, string>;
}

export async function recordSandboxVersions(
  ctx: ProbeContext<unknown>,
  exec: Exec,
  what: VersionRequest,
): Promise<Record<string, string>> {
  const o = { signal: ctx.signal };
  const versions: Record<string, string> = {};
  for (const tool of what.tools ?? []) versions[tool] = await sandboxToolVersion(exec, tool, o);
  for (const rt of what.runtimes ?? []) versions[RUNTIME_COMMANDS[rt]] = await runtimeVersion(exec, rt, o);
  if (what.bench) versions['e2b-bench'] = (await localBench()).version;
  Object.assign(versions, what.extra);
  publishVersions(ctx, versions);
  return versions;
}

// ---------- bench scripts ----------

/** `sha256sum` output → path → hash. */
export function parseSha256sum(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^([0-9a-f]{64}) [ *](.+)$/gm)) out.set(m[2], m[1]);
  return out;
}

/** Whether `dir` in the sandbox holds every bench file byte for byte (by sha256). */
export async function benchInstalledAt(
  exec: Exec,
  dir: string,
  bench: LocalBench,
  signal: AbortSignal,
): Promise<boolean> {
  const paths = bench.files.map((f) => posix.join(dir, f.path));
  const r = await runTool(exec, 'sha256sum', ['--', ...paths], { signal, timeoutMs: 30_000, okExitCodes: [0, 1] });
  const found = parseSha256sum(r.stdout);
  return bench.files.every((f, i) => found.get(paths[i]) === f.sha256);
}

const benchDirs = new WeakMap<Sandbox, Promise<string>>();

/**
 * Directory of our bench scripts inside the sandbox: the template's copy when every file matches
 * ours byte for byte, else a fresh upload (files API) under /tmp, so a stock template works and
 * an outdated template copy is never run.
 */
export function ensureBench(ctx: ProbeContext<unknown>, sb: BenchSandbox): Promise<string> {
  let p = benchDirs.get(sb.sandbox);
  if (!p) {
    p = (async () => {
      const bench = await localBench();
      if (await benchInstalledAt(sb.exec, bench.installedDir, bench, ctx.signal)) {
        ctx.detail('bench', { dir: bench.installedDir, uploaded: false, version: bench.version });
        return bench.installedDir;
      }
      const dir = `/tmp/e2b-bench-${bench.version}`;
      await ctx.phase('bench.upload', async () => {
        try {
          await sb.sandbox.files.write(
            bench.files.map((f) => ({ path: posix.join(dir, f.path), data: new Uint8Array(f.content).buffer })),
          );
        } catch (err) {
          throw new ProbeError('sandbox_error', `uploading the bench scripts failed: ${(err as Error).message}`, {
            cause: err,
          });
        }
      });
      ctx.log(`bench scripts uploaded to ${dir} (the template has none, or another version)`);
      ctx.detail('bench', { dir, uploaded: true, version: bench.version });
      return dir;
    })();
    benchDirs.set(sb.sandbox, p);
  }
  return p;
}

// ---------- aggregation ----------

interface Series {
  name: MetricName;
  labels: Labels;
  perSandbox: Map<number, number[]>;
}

/**
 * Samples of several sandboxes; `publish` sets each series to the median over sandboxes of the
 * per-sandbox medians (one noisy sandbox moves the result no more than any other).
 */
export class MedianOfMedians {
  private readonly series = new Map<string, Series>();

  add(sandbox: number, name: MetricName, labels: Labels, value: number): void {
    if (!Number.isFinite(value)) return;
    const key = `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { name, labels, perSandbox: new Map() }));
    const list = s.perSandbox.get(sandbox) ?? [];
    list.push(value);
    s.perSandbox.set(sandbox, list);
  }

  /** Median of medians of one series, or undefined when it has no samples. */
  value(name: MetricName, labels: Labels): number | undefined {
    for (const s of this.series.values()) {
      if (s.name === name && sameLabels(s.labels, labels)) return medianOfMedians(s.perSandbox);
    }
    return undefined;
  }

  /** Sets every series as a gauge; returns what was published, with the samples, for the run record. */
  publish(ctx: ProbeContext<unknown>): { name: string; labels: Labels; value: number; samples: number[][] }[] {
    const out = [];
    for (const s of this.series.values()) {
      const value = medianOfMedians(s.perSandbox);
      ctx.gauge(s.name, s.labels, value);
      out.push({ name: s.name, labels: s.labels, value, samples: [...s.perSandbox.values()] });
    }
    return out;
  }
}

/** What a probe's measurement of one sandbox reports to `measureSandboxes`. */
export interface SandboxSamples {
  /** One sample of a series for this sandbox. */
  add(name: MetricName, labels: Labels, value: number): void;
  /** A raw record for the run's details, tagged with the sandbox's index. */
  keep(record: Record<string, unknown>): void;
}

/**
 * The loop of every sandbox.* probe: `options.sandboxes` sandboxes one after another, versions
 * recorded once from the first (`plan.versions`, fixed or looked up in that sandbox), each
 * sandbox measured by `fn`. Then every series is published as the median of the per-sandbox
 * medians (details.results) and the raw records go to details[`plan.raw`]. Returns the series
 * for probes that derive more from them.
 */
export async function measureSandboxes(
  ctx: ProbeContext<{ sandboxes: number; template?: string }>,
  plan: { raw?: string; versions?: VersionRequest | ((sb: BenchSandbox) => Promise<VersionRequest>) },
  fn: (sb: BenchSandbox, samples: SandboxSamples) => Promise<void>,
): Promise<MedianOfMedians> {
  const results = new MedianOfMedians();
  const raw: unknown[] = [];
  await forEachSandbox(ctx, async (sb) => {
    const v = plan.versions;
    if (v && sb.index === 0) await recordSandboxVersions(ctx, sb.exec, typeof v === 'function' ? await v(sb) : v);
    await fn(sb, {
      add: (name, labels, value) => results.add(sb.index, name, labels, value),
      keep: (record) => raw.push({ sandbox: sb.index, ...record }),
    });
  });
  ctx.detail('results', results.publish(ctx));
  if (plan.raw) ctx.detail(plan.raw, raw);
  return results;
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export function medianOfMedians(perSandbox: Map<number, number[]> | number[][]): number {
  const lists = perSandbox instanceof Map ? [...perSandbox.values()] : perSandbox;
  return median(lists.filter((l) => l.length > 0).map((l) => median(l)));
}
