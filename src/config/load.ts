import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import type { Probe } from '../probe/types.js';
import { cronProblem, timezoneProblem } from '../scheduler/cron.js';
import { targetHas } from '../targets/capabilities.js';
import { parseDuration } from './duration.js';
import { ConfigError, formatIssues, formatPath } from './errors.js';
import { parseThreshold, type Threshold } from '../thresholds/parse.js';
import { interpolateEnv } from './interpolate.js';
import { rememberSecretsUnder } from './secrets.js';
import { ConfigShape, ProbeBaseSchema, type TargetConfig } from './schema.js';

export interface ProbeConfig {
  probe: Probe;
  enabled: boolean;
  intervalMs: number;
  /** A cron schedule in place of the interval. */
  schedule?: { cron: string; timezone?: string };
  timeoutMs: number;
  samples: number;
  /** Target names; undefined = every target the probe supports. */
  targets?: string[];
  options: Record<string, unknown>;
}

export type RawConfig = z.output<typeof ConfigShape>;

export interface Config {
  raw: RawConfig;
  targets: TargetConfig[];
  probes: Map<string, ProbeConfig>;
  /** `thresholds`, parsed: what `e2b-bench suite` checks its results against. */
  thresholds: Threshold[];
  /** Where it came from, for messages: a file path or "(default)". */
  source: string;
}

/** The embedded default: the local runtime as target `local`. */
export const DEFAULT_CONFIG_DOC = {
  targets: [{ name: 'local', cloud_provider: 'local', cloud_region: 'localhost', template: 'base' }],
  // A first look should show results within a minute.
  scheduler: { max_start_offset: '30s' },
};

/**
 * Whether a probe runs: an explicit `enabled` wins; an opt-in probe (defaults.enabled false) runs
 * when the configuration names it; the rest run unless `enable_all_probes: false` leaves them out.
 */
function probeEnabled(
  probe: Probe,
  enabled: boolean,
  given: unknown,
  configured: Record<string, unknown>,
  enableAll: boolean,
): boolean {
  const named = probe.name in configured;
  const explicit = typeof (given as { enabled?: unknown }).enabled === 'boolean';
  if (explicit) return enabled && (enableAll || named);
  if (probe.defaults.enabled === false) return named;
  return enableAll || named;
}

function probeSchema(probe: Probe) {
  const own = probe.options as z.AnyZodObject | undefined;
  return own ? ProbeBaseSchema.merge(own).strict() : ProbeBaseSchema.strict();
}

/**
 * Validates a parsed (not yet interpolated) document. Every problem is collected and reported at
 * once, each naming the path of the bad key.
 */
export function buildConfig(
  doc: unknown,
  probes: readonly Probe[],
  opts: { env?: NodeJS.ProcessEnv; source?: string } = {},
): Config {
  const problems: string[] = [];
  const input = interpolateEnv(doc ?? {}, opts.env ?? process.env, problems);
  rememberSecretsUnder(input);
  const parsed = ConfigShape.safeParse(input);
  // A value emptied by an unset variable is already reported above; zod would only repeat it.
  const envPaths = new Set(problems.map((p) => p.slice(0, p.indexOf(': '))));
  if (!parsed.success)
    problems.push(
      ...formatIssues(parsed.error.issues, input).filter((l) => !envPaths.has(l.slice(0, l.indexOf(': ')))),
    );
  const raw = parsed.success ? parsed.data : undefined;

  const targets = raw?.targets ?? [];
  const seen = new Set<string>();
  targets.forEach((t, i) => {
    if (seen.has(t.name)) problems.push(`targets[${i}].name: duplicate target name ${JSON.stringify(t.name)}`);
    seen.add(t.name);
    if (!t.e2b && t.cloud_provider !== 'local')
      problems.push(`targets[${i}].e2b: required for cloud_provider ${t.cloud_provider}`);
    if (t.cold_start_strategy === 'nomad-restart' && !t.nomad)
      problems.push(`targets[${i}].nomad: required by cold_start_strategy nomad-restart`);
  });
  const selfHosted = targets.flatMap((t, i) => (t.host === 'self' ? [i] : []));
  for (const i of selfHosted.slice(1))
    problems.push(
      `targets[${i}].host: only one target can run on this machine (targets[${selfHosted[0]}] already does)`,
    );

  const probeMap = new Map<string, ProbeConfig>();
  // Probe sections are checked even when the rest is invalid, so every error is listed at once.
  const rawProbes = (input as { probes?: unknown })?.probes;
  const fallback = rawProbes && typeof rawProbes === 'object' && !Array.isArray(rawProbes) ? rawProbes : {};
  const configured = (raw?.probes ?? fallback) as Record<string, unknown>;
  const known = new Map(probes.map((p) => [p.name, p]));
  for (const name of Object.keys(configured)) {
    if (!known.has(name))
      problems.push(`${formatPath(['probes', name])}: unknown probe (known: ${[...known.keys()].join(', ')})`);
  }
  for (const probe of probes) {
    const given = configured[probe.name] ?? {};
    const res = probeSchema(probe).safeParse(given);
    if (!res.success) {
      const rawGiven = (input as { probes?: Record<string, unknown> })?.probes?.[probe.name];
      problems.push(...formatIssues(res.error.issues, rawGiven, ['probes', probe.name]));
      continue;
    }
    const {
      enabled,
      interval,
      schedule,
      timezone,
      timeout,
      samples,
      targets: only,
      ...options
    } = res.data as z.output<typeof ProbeBaseSchema> & Record<string, unknown>;
    if (only && probe.family === 'host')
      problems.push(
        `${formatPath(['probes', probe.name, 'targets'])}: host probes measure this machine once, whatever the targets; mark the target it belongs to with targets[].host: self`,
      );
    only?.forEach((t, i) => {
      if (raw && !seen.has(t))
        problems.push(`${formatPath(['probes', probe.name, 'targets', i])}: unknown target ${JSON.stringify(t)}`);
    });
    const intervalMs = interval ?? parseDuration(probe.defaults.interval)!;
    const timeoutMs = timeout ?? parseDuration(probe.defaults.timeout)!;
    const at = (key: string) => formatPath(['probes', probe.name, key]);
    if (schedule !== undefined) {
      if (interval !== undefined) problems.push(`${at('schedule')}: set either interval or schedule, not both`);
      const bad = cronProblem(schedule);
      if (bad) problems.push(`${at('schedule')}: ${bad}`);
    } else if (timezone !== undefined) problems.push(`${at('timezone')}: only applies with schedule`);
    const badZone = timezone === undefined ? undefined : timezoneProblem(timezone);
    if (badZone) problems.push(`${at('timezone')}: ${badZone}`);
    if (schedule === undefined && timeoutMs > intervalMs && (interval !== undefined || timeout !== undefined))
      problems.push(`${at('timeout')}: must not exceed the interval`);
    probeMap.set(probe.name, {
      probe,
      enabled: probeEnabled(probe, enabled, given, configured, raw?.enable_all_probes !== false),
      intervalMs,
      schedule: schedule === undefined ? undefined : { cron: schedule, timezone },
      timeoutMs,
      samples: samples ?? probe.defaults.samples ?? 1,
      targets: only,
      options,
    });
  }

  const thresholds: Threshold[] = [];
  for (const [key, text] of Object.entries(raw?.thresholds ?? {})) {
    const t = parseThreshold(key, text, [...known.keys()]);
    if (typeof t === 'string') problems.push(`${formatPath(['thresholds', key])}: ${t}`);
    else thresholds.push(t);
  }

  if (problems.length) throw new ConfigError(problems);
  return { raw: raw!, targets, probes: probeMap, thresholds, source: opts.source ?? '(inline)' };
}

export function parseConfigText(
  text: string,
  probes: readonly Probe[],
  opts: { env?: NodeJS.ProcessEnv; source?: string } = {},
): Config {
  const where = opts.source ?? 'config';
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) throw new ConfigError(doc.errors.map((e) => `${where}: ${e.message.split('\n')[0]}`));
  let tree: unknown;
  try {
    // Aliases are resolved here, not by the parser: an alias to no anchor or past the alias cap throws.
    tree = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError([`${where}: ${(err as Error).message.split('\n')[0]}`]);
  }
  return buildConfig(tree, probes, opts);
}

export async function loadConfig(
  file: string | undefined,
  probes: readonly Probe[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Config> {
  if (!file) return buildConfig(DEFAULT_CONFIG_DOC, probes, { env, source: '(default)' });
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  return parseConfigText(text, probes, { env, source: file });
}

/** Whether probe `name` runs on target `t` under this config. */
export function probeAppliesTo(pc: ProbeConfig, t: TargetConfig): boolean {
  if (!pc.enabled) return false;
  if (pc.targets && !pc.targets.includes(t.name)) return false;
  return (pc.probe.requires ?? []).every((need) => targetHas(t, need));
}
