import { formatPath } from './errors.js';
import { rememberSecret } from './secrets.js';

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string value of a parsed YAML tree. Done on
 * the parsed tree, not the text, so a value can never inject YAML structure. An unset variable
 * without a default is an error naming the key that uses it. Every substituted value is remembered
 * as a secret (./secrets.ts): it is never printed, whichever key it lands under.
 */
export function interpolateEnv(
  node: unknown,
  env: NodeJS.ProcessEnv,
  problems: string[],
  path: (string | number)[] = [],
): unknown {
  if (typeof node === 'string') {
    // A value that is one whole `${VAR}` takes the variable's YAML scalar type, so numeric and
    // boolean keys can come from the environment (`hourly_usd: ${PRICE}`).
    const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/.exec(node);
    if (whole) {
      const v = env[whole[1]] || whole[2];
      if (env[whole[1]]) rememberSecret(env[whole[1]]);
      if (v !== undefined && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v.trim())) return Number(v);
      if (v === 'true' || v === 'false') return v === 'true';
    }
    return node.replace(VAR, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') {
        rememberSecret(v);
        return v;
      }
      if (fallback !== undefined) return fallback;
      problems.push(`${formatPath(path)}: environment variable ${name} is not set`);
      return '';
    });
  }
  if (Array.isArray(node)) return node.map((v, i) => interpolateEnv(v, env, problems, [...path, i]));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = interpolateEnv(v, env, problems, [...path, k]);
    return out;
  }
  return node;
}
