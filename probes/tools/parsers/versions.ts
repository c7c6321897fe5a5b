import { parseError } from './text.js';

// First line patterns of `<tool> --version`.
const PATTERNS: Record<string, RegExp> = {
  sysbench: /^sysbench (\d[\w.-]*)/m, // "sysbench 1.0.20"
  fio: /^fio-(\d[\w.-]*)/m, // "fio-3.33"
  iperf3: /^iperf (\d[\w.+-]*)/m, // "iperf 3.12 (cJSON 1.7.15)"
  'stress-ng': /^stress-ng,? version (\d[\w.-]*)/m, // "stress-ng, version 0.15.06 (gcc ...)"
  crun: /^crun version (\d[\w.-]*)/m, // "crun version 1.8.1"
  runc: /^runc version (\d[\w.+-]*)/m, // "runc version 1.1.5+ds1"
};

export const VERSIONED_TOOLS = Object.keys(PATTERNS);

/** Version number from a tool's `--version` output. */
export function parseToolVersion(tool: string, text: string): string {
  const re = PATTERNS[tool];
  if (!re) throw parseError(tool, 'no known version format');
  const m = re.exec(text);
  if (!m) throw parseError(tool, 'no version', text);
  return m[1];
}
