import type { Request } from 'express';

/**
 * Why a query string is refused, or undefined: only the allowed parameters, each at most once (a
 * repeated one would otherwise be silently ignored or half-applied).
 */
export function queryProblem(query: Request['query'], allowed: readonly string[]): string | undefined {
  const keys = Object.keys(query);
  const extra = keys.filter((k) => !allowed.includes(k));
  if (extra.length) return `unsupported query parameter(s): ${extra.join(', ')} (allowed: ${allowed.join(', ')})`;
  const repeated = keys.filter((k) => typeof query[k] !== 'string');
  if (repeated.length) return `query parameter(s) given more than once: ${repeated.join(', ')}`;
  return undefined;
}
