import { parseError, parseSysbenchMemory, type SysbenchMemoryResult } from '../../tools/index.js';

/**
 * The "Nth percentile" line of any sysbench 1.0 report (cpu, memory), in seconds; the shared
 * parsers read it for cpu only, isolation needs it for memory too.
 */
export function parseSysbenchLatencyPercentile(text: string): { rank: number; seconds: number } {
  const m = /^\s*(\d+)th percentile:\s+([\d.]+)\s*$/m.exec(text);
  if (!m) throw parseError('sysbench', 'no latency percentile', text);
  return { rank: Number(m[1]), seconds: Number(m[2]) / 1000 };
}

/**
 * `sysbench memory run` report, also when sysbench pads the rate: it prints
 * "Total operations: N (%8.2f per second)", so under 10000 operations/s (under ~10 GiB/s with
 * 1 MiB blocks, common in sandboxes) the line reads "( 3817.50 per second)", which the shared
 * parser does not accept.
 */
export function parseSysbenchMemoryReport(text: string): SysbenchMemoryResult {
  return parseSysbenchMemory(text.replace(/\(\s+(?=[\d.]+ per second\))/g, '('));
}
