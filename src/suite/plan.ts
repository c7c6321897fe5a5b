import { probeAppliesTo, type Config, type ProbeConfig } from '../config/load.js';
import type { TargetConfig } from '../config/schema.js';
import type { ProbeFamily } from '../probe/types.js';
import { UsageError } from '../cli/args.js';

/** Cheap, sandbox-free families first; capacity (which fills the target) last. */
const FAMILY_ORDER: ProbeFamily[] = ['host', 'storage', 'lifecycle', 'sandbox', 'capacity'];

export interface PlannedRun {
  pc: ProbeConfig;
  target: TargetConfig;
}

/**
 * The runs of a suite: each selected probe once per target it applies to, probe by probe (so the
 * targets of one probe are measured close together), in family order. `probes` are names or
 * `family.*`; empty = every enabled probe. Unknown names are usage errors.
 */
export function planSuite(cfg: Config, targets: readonly TargetConfig[], probes: readonly string[]): PlannedRun[] {
  const all = [...cfg.probes.values()];
  let chosen: ProbeConfig[];
  if (!probes.length) chosen = all.filter((pc) => pc.enabled);
  else {
    chosen = [];
    for (const sel of probes) {
      const fam = /^(\w+)\.\*$/.exec(sel)?.[1];
      const hit = fam ? all.filter((pc) => pc.probe.family === fam) : all.filter((pc) => pc.probe.name === sel);
      if (!hit.length)
        throw new UsageError(
          `--probe ${JSON.stringify(sel)} matches no probe (see "e2b-bench probes"; FAMILY.* selects a family)`,
        );
      for (const pc of hit)
        if (!chosen.some((c) => c.probe.name === pc.probe.name)) chosen.push({ ...pc, enabled: true });
    }
  }
  const rank = (pc: ProbeConfig) => FAMILY_ORDER.indexOf(pc.probe.family);
  const order = all.map((pc) => pc.probe.name);
  chosen.sort((a, b) => rank(a) - rank(b) || order.indexOf(a.probe.name) - order.indexOf(b.probe.name));
  return chosen.flatMap((pc) => targets.filter((t) => probeAppliesTo(pc, t)).map((target) => ({ pc, target })));
}
