import { createHash, timingSafeEqual } from 'node:crypto';

/** The SDK's file URL signature: `v1_` + base64(sha256(path:operation:user:token[:expiration])). */
export function fileSignature(
  p: string,
  operation: 'read' | 'write',
  user: string,
  token: string,
  expiration?: number,
): string {
  const raw =
    expiration === undefined
      ? `${p}:${operation}:${user}:${token}`
      : `${p}:${operation}:${user}:${token}:${expiration}`;
  return 'v1_' + createHash('sha256').update(raw).digest('base64').replace(/=+$/, '');
}

/** True when a `signature_expiration` (Unix seconds) is given and already past. */
export function signatureExpired(expiration: string | null, nowSec = Math.floor(Date.now() / 1000)): boolean {
  if (!expiration) return false;
  const exp = Number(expiration);
  return !Number.isFinite(exp) || exp < nowSec;
}

/** Whether `given` signs this request with `token` (expiry is checked apart, by signatureExpired). */
export function checkSignature(
  given: string,
  p: string,
  operation: 'read' | 'write',
  user: string,
  token: string,
  expiration: string | null,
): boolean {
  const exp = expiration ? Number(expiration) : undefined;
  if (exp !== undefined && !Number.isFinite(exp)) return false;
  const want = Buffer.from(fileSignature(p, operation, user, token, exp));
  const got = Buffer.from(given);
  return want.length === got.length && timingSafeEqual(want, got);
}
