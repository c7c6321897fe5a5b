import type { ZodIssue } from 'zod';
import { holdsSecret, maskSecrets, SECRET_KEY } from './secrets.js';

/** Renders a path as `targets[1].pricing.hourly_usd`, quoting keys that are not identifiers. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out || '(root)';
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

/** The offending value, except secrets (by key or by value): those show only their kind. */
function describeAt(input: unknown, path: readonly (string | number)[]): string {
  const v = valueAt(input, path);
  const last = path[path.length - 1];
  if ((typeof last === 'string' && SECRET_KEY.test(last)) || holdsSecret(v))
    return v === null ? 'null' : `a ${Array.isArray(v) ? 'list' : typeof v}`;
  return describe(v);
}

/** One line per zod issue, each naming the path of the bad key and what was found there. */
export function formatIssues(issues: readonly ZodIssue[], input: unknown, prefix: (string | number)[] = []): string[] {
  return issues.flatMap((issue): string[] => {
    const path = [...prefix, ...issue.path];
    const where = formatPath(path);
    switch (issue.code) {
      case 'invalid_type':
        return [
          issue.received === 'undefined'
            ? `${where}: required (expected ${issue.expected})`
            : `${where}: expected ${issue.expected}, got ${describeAt(input, issue.path)}`,
        ];
      case 'unrecognized_keys':
        return issue.keys.map((k) => `${formatPath([...path, k])}: unknown key`);
      case 'invalid_enum_value':
        return [`${where}: expected one of ${issue.options.join(', ')}, got ${describe(issue.received)}`];
      default:
        return [`${where}: ${issue.message}`];
    }
  });
}

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    // Whatever a check echoed, no remembered secret leaves here.
    problems = problems.map(maskSecrets);
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
