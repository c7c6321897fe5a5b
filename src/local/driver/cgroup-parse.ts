/** Pure parsers for cgroup mount tables and counter files (v1 and v2). */

export interface CgroupLayout {
  /** Mount point of the unified (v2) hierarchy, when it carries the controllers we need. */
  v2?: string;
  /** v1 controller → mount point (only controllers that are mounted). */
  v1: Record<string, string>;
}

export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids', 'freezer'] as const;

/**
 * Parse /proc/self/mounts. A host with v1 controllers mounted (hybrid or legacy) is used as v1;
 * a host with only the unified hierarchy as v2.
 */
export function parseCgroupMounts(mounts: string): CgroupLayout {
  const v1: Record<string, string> = {};
  let unified: string | undefined;
  for (const line of mounts.split('\n')) {
    const [, mountPoint, fsType, options] = line.split(' ');
    if (!mountPoint || !options) continue;
    const point = mountPoint.replace(/\\040/g, ' ');
    if (fsType === 'cgroup2') unified ??= point;
    if (fsType !== 'cgroup') continue;
    for (const opt of options.split(',')) {
      if ((V1_CONTROLLERS as readonly string[]).includes(opt)) v1[opt] ??= point;
    }
  }
  if (v1.memory === undefined && unified !== undefined) return { v2: unified, v1: {} };
  return { v1 };
}

/** `key value` lines (memory.stat, cpu.stat) → record of numbers. */
export function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** v2 `cpu.max` value for a vCPU count over a period. */
export function cpuMax(cpuCount: number, periodUs = 100_000): string {
  return `${Math.max(1000, Math.round(cpuCount * periodUs))} ${periodUs}`;
}

/** PIDs listed one per line (cgroup.procs / tasks). */
export function parsePids(text: string): number[] {
  return text
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

/** v2 `memory.max` / v1 limit: "max" or a huge v1 sentinel means unlimited. */
export function parseLimit(text: string): number | undefined {
  const t = text.trim();
  if (t === 'max' || t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) && n < 2 ** 60 ? n : undefined;
}

/**
 * /proc/PID/cgroup → controller (v1) or "" (v2) → path. Lines: `id:controllers:path`.
 */
export function parseProcCgroup(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === '') out[''] = m[2]!;
    else for (const c of m[1]!.split(',')) out[c] = m[2]!;
  }
  return out;
}
