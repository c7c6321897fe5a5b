import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Random id of lowercase letters and digits (E2B sandbox ids look like this, 20 long). */
export function randomId(length = 20): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i]! % ALPHABET.length];
  return out;
}

export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/** An API key in E2B's own format (`e2b_` + 40 hex digits), which the SDKs check keys against. */
export function randomApiKey(): string {
  return `e2b_${randomBytes(20).toString('hex')}`;
}
