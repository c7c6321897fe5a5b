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

export function checkSignature(
  given: string,
  p: string,
  operation: 'read' | 'write',
  user: string,
  token: string,
  expiration: string | null,
  nowSec = Math.floor(Date.now() / 1000),
): boolean {
  const exp = expiration ? Number(expiration) : undefined;
  if (exp !== undefined && (!Number.isFinite(exp) || exp < nowSec)) return false;
  const want = Buffer.from(fileSignature(p, operation, user, token, exp));
  const got = Buffer.from(given);
  return want.length === got.length && timingSafeEqual(want, got);
}
