import { parseError } from '../../tools/index.js';

/**
 * The "Nth percentile" line of any sysbench 1.0 report (cpu, memory), in seconds; the shared
 * parsers read it for cpu only, isolation needs it for memory too.
 */
export function parseSysbenchLatencyPercentile(text: string): { rank: number; seconds: number } {
  const m = /^\s*(\d+)th percentile:\s+([\d.]+)\s*$/m.exec(text);
  if (!m) throw parseError('sysbench', 'no latency percentile', text);
  return { rank: Number(m[1]), seconds: Number(m[2]) / 1000 };
}
