/**
 * Values that must never be printed, whatever key they ended up under: every value substituted
 * from the environment and every value under a secret-named key. Masked by value, not by key, so
 * a secret interpolated into the wrong field (`hourly_usd: "${E2B_API_KEY}"`) is hidden in the
 * config error, the reload response and the log alike. Values are remembered for the life of the
 * process: a secret dropped by a reload is still never shown.
 */

/** Keys whose values are secrets. */
export const SECRET_KEY = /key|token|secret|password|connection_string/i;

/** Shorter values, numbers and booleans would mask ordinary text; they cannot be told apart from it. */
const MIN_LENGTH = 6;
const PLAIN = /^(-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false)$/;

const known = new Set<string>();

export const MASK = '***';

export function rememberSecret(value: unknown): void {
  if (typeof value === 'string' && value.length >= MIN_LENGTH && !PLAIN.test(value.trim())) known.add(value);
}

/** Remembers every string under a secret-named key of a parsed config tree. */
export function rememberSecretsUnder(node: unknown, key?: string): void {
  if (typeof node === 'string') {
    if (key !== undefined && SECRET_KEY.test(key)) rememberSecret(node);
  } else if (Array.isArray(node)) node.forEach((v) => rememberSecretsUnder(v, key));
  else if (node !== null && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) rememberSecretsUnder(v, k);
}

/** `text` with every remembered secret replaced by `***`. */
export function maskSecrets(text: string): string {
  let out = text;
  for (const s of known) if (out.includes(s)) out = out.split(s).join(MASK);
  return out;
}

/** Whether a value contains a remembered secret. */
export function holdsSecret(value: unknown): boolean {
  return typeof value === 'string' && maskSecrets(value) !== value;
}
