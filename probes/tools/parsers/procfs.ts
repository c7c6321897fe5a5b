import { parseError } from './text.js';

// ---------- /proc/meminfo ----------

/** /proc/meminfo as a map; "kB" values converted to bytes, counts (HugePages_*) kept as they are. */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^([\w()]+):\s+(\d+)(?:\s+(kB))?\s*$/gm)) {
    out[m[1]] = Number(m[2]) * (m[3] ? 1024 : 1);
  }
  if (out.MemTotal === undefined) throw parseError('/proc/meminfo', 'no MemTotal', text);
  return out;
}

export interface HugepagesState {
  total: number;
  free: number;
  reserved: number;
  surplus: number;
  pageSizeBytes: number;
  /** Anonymous memory currently backed by transparent huge pages. */
  anonHugeBytes: number;
}

export function parseHugepages(meminfoText: string): HugepagesState {
  const m = parseMeminfo(meminfoText);
  if (m.HugePages_Total === undefined || m.Hugepagesize === undefined) {
    throw parseError('/proc/meminfo', 'no HugePages_Total / Hugepagesize (kernel without hugetlbfs?)');
  }
  return {
    total: m.HugePages_Total,
    free: m.HugePages_Free ?? 0,
    reserved: m.HugePages_Rsvd ?? 0,
    surplus: m.HugePages_Surp ?? 0,
    pageSizeBytes: m.Hugepagesize,
    anonHugeBytes: m.AnonHugePages ?? 0,
  };
}

export type ThpMode = 'always' | 'madvise' | 'never';

/** /sys/kernel/mm/transparent_hugepage/enabled: "always [madvise] never" → "madvise". */
export function parseThpMode(text: string): ThpMode {
  const m = /\[(always|madvise|never)\]/.exec(text);
  if (!m) throw parseError('transparent_hugepage/enabled', 'no selected mode', text);
  return m[1] as ThpMode;
}

// ---------- /proc/cpuinfo ----------

export interface CpuInfo {
  model: string;
  vendor: string;
  /** Logical CPUs (processor entries). */
  threads: number;
  /** Physical cores (distinct physical id + core id); threads when the kernel does not say. */
  cores: number;
  sockets: number;
  /** "cpu MHz" of each logical CPU, when the architecture reports it. */
  mhz: number[];
}

// MIDR implementer codes of the Arm vendors a cloud host is likely to have.
const ARM_IMPLEMENTERS: Record<string, string> = {
  '0x41': 'ARM',
  '0x48': 'HiSilicon',
  '0x4e': 'NVIDIA',
  '0x50': 'APM',
  '0x51': 'Qualcomm',
  '0x61': 'Apple',
  '0xc0': 'Ampere',
};

export function parseCpuinfo(text: string): CpuInfo {
  const blocks = text
    .split(/\n\s*\n/)
    .map((b) => {
      const kv: Record<string, string> = {};
      for (const m of b.matchAll(/^([^:\n]+?)\s*:\s*(.*)$/gm)) kv[m[1].trim()] = m[2].trim();
      return kv;
    })
    .filter((kv) => kv.processor !== undefined);
  if (blocks.length === 0) throw parseError('/proc/cpuinfo', 'no processor entries', text);
  const first = blocks[0];
  const model = first['model name'] ?? first['cpu model'] ?? first['Model'] ?? first['cpu'] ?? 'unknown';
  const implementer = first['CPU implementer']?.toLowerCase();
  const vendor =
    first['vendor_id'] ?? (implementer ? (ARM_IMPLEMENTERS[implementer] ?? `arm-${implementer}`) : 'unknown');
  const coreIds = new Set<string>();
  const sockets = new Set<string>();
  for (const b of blocks) {
    if (b['core id'] !== undefined) coreIds.add(`${b['physical id'] ?? 0}/${b['core id']}`);
    sockets.add(b['physical id'] ?? '0');
  }
  const mhz = blocks.map((b) => Number(b['cpu MHz'])).filter((v) => Number.isFinite(v) && v > 0);
  return {
    model,
    vendor,
    threads: blocks.length,
    cores: coreIds.size || blocks.length,
    sockets: sockets.size,
    mhz,
  };
}

// ---------- /proc/stat ----------

export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export interface ProcStat {
  /** Aggregate "cpu" line, in USER_HZ ticks. */
  total: CpuTimes;
  perCpu: CpuTimes[];
}

const FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

function cpuTimes(values: number[]): CpuTimes {
  const t = {} as CpuTimes;
  FIELDS.forEach((f, i) => (t[f] = values[i] ?? 0));
  return t;
}

export function parseProcStat(text: string): ProcStat {
  let total: CpuTimes | undefined;
  const perCpu: CpuTimes[] = [];
  for (const m of text.matchAll(/^cpu(\d*)\s+([\d ]+)$/gm)) {
    const t = cpuTimes(m[2].trim().split(/\s+/).map(Number));
    if (m[1] === '') total = t;
    else perCpu[Number(m[1])] = t;
  }
  if (!total) throw parseError('/proc/stat', 'no aggregate cpu line', text);
  return { total, perCpu };
}

function sum(t: CpuTimes): number {
  // guest time is already counted in user/nice, so it is not added again.
  return FIELDS.reduce((a, f) => a + t[f], 0);
}

/** Share of CPU time stolen by the hypervisor between two /proc/stat snapshots (0 when no time passed). */
export function stealRatio(before: ProcStat, after: ProcStat): number {
  const dt = sum(after.total) - sum(before.total);
  if (dt <= 0) return 0;
  return Math.max(0, after.total.steal - before.total.steal) / dt;
}
