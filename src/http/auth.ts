import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

function isLoopback(addr: string | undefined): boolean {
  return !!addr && (addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.'));
}

/**
 * Bearer-token guard for endpoints that act (run probes, reload). With no token configured, only
 * loopback clients may act, so a default install is usable locally and safe when exposed.
 */
export function requireToken(getToken: () => string | undefined) {
  return (req: Request, res: Response, next: NextFunction) => {
    const token = getToken();
    if (!token) {
      if (isLoopback(req.socket.remoteAddress)) return next();
      return res.status(403).json({ error: 'no server.auth_token configured: actions are allowed from loopback only' });
    }
    const given = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1] ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return res.status(401).json({ error: 'missing or wrong bearer token' });
    }
    next();
  };
}
