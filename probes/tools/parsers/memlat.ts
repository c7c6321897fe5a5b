import { median } from '../../../src/stats/summary.js';
import { isRecord, parseEmbeddedJson, parseError } from './text.js';

/** What e2b-template/bench/memlat.mjs measured: CPU-time nanoseconds per dependent load, per chunk. */
export interface MemoryLatencyResult {
  /** Working set actually chased (whole 64-byte lines). */
  bytes: number;
  lineBytes: number;
  loadsPerSample: number;
  runtimeVersion: string;
  nsPerLoad: number[];
  medianSeconds: number;
}

const TOOL = 'memlat';

function positive(doc: Record<string, unknown>, key: string): number {
  const v = doc[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw parseError(TOOL, `${key} is not a positive number`);
  return v;
}

/** The JSON line memlat.mjs prints; checks that the median is the samples' median. */
export function parseMemoryLatency(text: string): MemoryLatencyResult {
  const doc = parseEmbeddedJson(TOOL, text);
  if (!isRecord(doc) || doc.bench !== 'memlat') throw parseError(TOOL, 'not a memlat result', text);
  // Only CPU-time samples are latencies; wall time on a busy machine includes other processes.
  if (doc.clock !== 'process_cpu') throw parseError(TOOL, `clock ${JSON.stringify(doc.clock)} is not process_cpu`);
  const samples = doc.ns_per_load;
  if (!Array.isArray(samples) || samples.length === 0) throw parseError(TOOL, 'ns_per_load is not a list of samples');
  const nsPerLoad = samples.map((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0)
      throw parseError(TOOL, `ns_per_load[${i}] is not positive`);
    return x;
  });
  const medianNs = positive(doc, 'median_ns');
  if (Math.abs(medianNs - median(nsPerLoad)) > 1e-9 * medianNs)
    throw parseError(TOOL, 'median_ns is not the median of the samples');
  const version = doc.runtime_version;
  if (typeof version !== 'string' || version === '') throw parseError(TOOL, 'runtime_version is not a string');
  return {
    bytes: positive(doc, 'bytes'),
    lineBytes: positive(doc, 'line_bytes'),
    loadsPerSample: positive(doc, 'loads_per_sample'),
    runtimeVersion: version.replace(/^v/, ''),
    nsPerLoad,
    medianSeconds: medianNs / 1e9,
  };
}
