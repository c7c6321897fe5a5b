import { ProbeError } from '../../../src/probe/reasons.js';

/** parse_error naming the tool and what was missing, with the start of the offending text. */
export function parseError(tool: string, what: string, text?: string): ProbeError {
  const head = text === undefined ? '' : `: ${JSON.stringify(text.trim().slice(0, 120))}`;
  return new ProbeError('parse_error', `${tool} output: ${what}${head}`);
}

/** First capture group of `re` in `text` as a finite number, or a parse_error. */
export function matchNumber(tool: string, text: string, re: RegExp, what: string): number {
  const m = re.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(n)) throw parseError(tool, `no ${what}`, text);
  return n;
}

/** Parses JSON that a tool may surround with log lines (fio prints errors before its JSON). */
export function parseEmbeddedJson(tool: string, text: string): unknown {
  const start = text.search(/^\{/m);
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) throw parseError(tool, 'no JSON object', text);
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch (err) {
    throw parseError(tool, `invalid JSON (${(err as Error).message})`, text.slice(start));
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A finite number at obj[key] (fio and iperf3 JSON), or a parse_error naming the path. */
export function num(tool: string, obj: unknown, path: string): number {
  let cur: unknown = obj;
  for (const key of path.split('.')) cur = isRecord(cur) ? cur[key] : undefined;
  if (typeof cur !== 'number' || !Number.isFinite(cur)) throw parseError(tool, `missing number ${path}`);
  return cur;
}
