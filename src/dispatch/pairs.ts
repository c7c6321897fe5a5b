import { probeAppliesTo, type Config, type ProbeConfig } from '../config/load.js';
import type { TargetConfig } from '../config/schema.js';
import type { RunTarget } from '../targets/machine.js';
import { ownerKey } from './series.js';

/** One probe on one target (or on this machine, for host probes): scheduled, admitted, owns its series. */
export interface Pair {
  key: string;
  pc: ProbeConfig;
  target: RunTarget;
}

/**
 * Every configured pair. The only place that decides which probes run on which targets: host
 * probes once, on this machine (`machine`), whatever the number of targets; the others per target.
 */
export function configuredPairs(cfg: Config, targets: TargetConfig[], machine: RunTarget): Pair[] {
  const pairs: Pair[] = [];
  for (const target of targets)
    for (const pc of cfg.probes.values())
      if (pc.probe.family !== 'host' && probeAppliesTo(pc, target))
        pairs.push({ key: ownerKey(pc.probe.name, target.name), pc, target });
  for (const pc of cfg.probes.values())
    if (pc.probe.family === 'host' && pc.enabled)
      pairs.push({ key: ownerKey(pc.probe.name, machine.name), pc, target: machine });
  return pairs;
}

export type PairProblem = 'unknown_probe' | 'unknown_target' | 'target_required' | 'not_applicable';

export type Resolution =
  | { ok: true; pair: Pair }
  | { ok: false; problem: PairProblem; message: string; choices: string[] };

export interface ResolveOptions {
  /** The CLI runs a probe the config leaves disabled; a server only runs what is configured. */
  includeDisabled?: boolean;
  /** Without a target name: the first target (CLI) or only when there is exactly one (HTTP). */
  defaultTarget?: 'first' | 'only';
}

/** Finds the pair a caller named, or says what is wrong with the names and what would be valid. */
export function resolvePair(
  cfg: Config,
  targets: TargetConfig[],
  machine: RunTarget,
  probe: string,
  target: string | undefined,
  opts: ResolveOptions = {},
): Resolution {
  const configured = cfg.probes.get(probe);
  const usable = (p: ProbeConfig) => opts.includeDisabled || p.enabled;
  if (!configured || !usable(configured))
    return {
      ok: false,
      problem: 'unknown_probe',
      message: `${configured ? 'disabled' : 'unknown'} probe ${JSON.stringify(probe)}`,
      choices: [...cfg.probes.values()].filter(usable).map((p) => p.probe.name),
    };
  const pc = opts.includeDisabled ? { ...configured, enabled: true } : configured;
  // Host probes measure this machine: no target to choose; a named one must be where they run.
  if (pc.probe.family === 'host') {
    if (target !== undefined && target !== machine.name)
      return {
        ok: false,
        problem: 'not_applicable',
        message: `probe ${probe} measures this machine (${machine.name}), not target ${target}`,
        choices: [machine.name],
      };
    return { ok: true, pair: { key: ownerKey(probe, machine.name), pc, target: machine } };
  }
  const names = targets.map((t) => t.name);
  if (target === undefined && (opts.defaultTarget ?? 'only') === 'only' && targets.length !== 1)
    return {
      ok: false,
      problem: 'target_required',
      message: 'target is required when more than one is configured',
      choices: names,
    };
  const t = target === undefined ? targets[0] : targets.find((x) => x.name === target);
  if (!t)
    return {
      ok: false,
      problem: 'unknown_target',
      message: `unknown target ${JSON.stringify(target)}`,
      choices: names,
    };
  if (!probeAppliesTo(pc, t))
    return {
      ok: false,
      problem: 'not_applicable',
      message: `probe ${probe} is not configured for target ${t.name}`,
      choices: targets.filter((x) => probeAppliesTo(pc, x)).map((x) => x.name),
    };
  return { ok: true, pair: { key: ownerKey(probe, t.name), pc, target: t } };
}
