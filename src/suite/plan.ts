import type { Config, ProbeConfig } from '../config/load.js';
import type { Pair } from '../dispatch/pairs.js';
import type { ProbeFamily } from '../probe/types.js';
import { UsageError } from '../cli/args.js';

/** Cheap, sandbox-free families first; capacity (which fills the target) last. */
const FAMILY_ORDER: ProbeFamily[] = ['host', 'storage', 'lifecycle', 'sandbox', 'capacity'];

/**
 * The probes of a suite, in run order: `selectors` are names or `family.*` (empty = every enabled
 * probe), host and storage first, capacity last. An unknown selector is a usage error.
 */
export function selectProbes(cfg: Config, selectors: readonly string[]): ProbeConfig[] {
  const all = [...cfg.probes.values()];
  let chosen: ProbeConfig[];
  if (!selectors.length) chosen = all.filter((pc) => pc.enabled);
  else {
    chosen = [];
    for (const sel of selectors) {
      const fam = /^(\w+)\.\*$/.exec(sel)?.[1];
      const hit = fam ? all.filter((pc) => pc.probe.family === fam) : all.filter((pc) => pc.probe.name === sel);
      if (!hit.length)
        throw new UsageError(
          `--probe ${JSON.stringify(sel)} matches no probe (see "e2b-bench probes"; FAMILY.* selects a family)`,
        );
      for (const pc of hit) if (!chosen.includes(pc)) chosen.push(pc);
    }
  }
  const rank = (pc: ProbeConfig) => FAMILY_ORDER.indexOf(pc.probe.family);
  return chosen.sort((a, b) => rank(a) - rank(b) || all.indexOf(a) - all.indexOf(b));
}

/**
 * Each selected probe once per target it applies to, probe by probe (the targets of one probe are
 * measured close together). Applicability is the dispatcher's answer (`resolve`).
 */
export function planSuite(
  probes: readonly ProbeConfig[],
  targets: readonly string[],
  resolve: (probe: string, target: string) => Pair | undefined,
): Pair[] {
  return probes.flatMap((pc) => targets.flatMap((t) => resolve(pc.probe.name, t) ?? []));
}
