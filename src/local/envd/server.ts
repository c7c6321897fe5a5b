import type { ConnectRouter } from '@connectrpc/connect';
import { createContextValues } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { kFaults, kSandbox } from './context.js';
import { handleGetFile, handlePostFile, HttpError, sendJson } from './files-http.js';
import { filesystemService } from './filesystem-service.js';
import { Filesystem } from './gen/filesystem/filesystem_pb.js';
import { Process } from './gen/process/process_pb.js';
import { processService } from './process-service.js';
import { checkSignature, signatureExpired } from './signature.js';
import type { EnvdDirectory, EnvdFaults, EnvdSandbox } from './types.js';

export interface EnvdHandlerOptions {
  directory: EnvdDirectory;
  faults?: EnvdFaults;
  /** Called once per request with a bounded route name and the HTTP status. */
  onRequest?: (route: string, status: number) => void;
}

const CONNECT_CODES: Record<number, string> = {
  400: 'invalid_argument',
  401: 'unauthenticated',
  404: 'not_found',
  502: 'unavailable',
};

function tokenMatches(given: string | undefined, want: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The sandbox a request names: `E2b-Sandbox-Id`, else a `PORT-SANDBOXID.domain` host name. */
export function sandboxIdOf(req: IncomingMessage): string | undefined {
  const header = req.headers['e2b-sandbox-id'];
  if (typeof header === 'string' && header !== '') return header;
  const m = /^\d+-([A-Za-z0-9]+)\./.exec(req.headers.host ?? '');
  return m ? m[1] : undefined;
}

function routeOf(pathname: string): string {
  if (pathname === '/health' || pathname === '/files') return pathname;
  const m = /^\/(process\.Process|filesystem\.Filesystem)\/(\w+)$/.exec(pathname);
  return m ? `${m[1]}/${m[2]}` : 'other';
}

/**
 * envd for every sandbox on one port: the SDK (with `sandboxUrl` set) sends each request here with
 * `E2b-Sandbox-Id`, and `X-Access-Token` (or a signed URL for /files).
 */
export function createEnvdHandler(opts: EnvdHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const routed = new WeakMap<IncomingMessage, EnvdSandbox>();
  const connect = connectNodeAdapter({
    routes: (router: ConnectRouter) => {
      router.service(Process, processService);
      router.service(Filesystem, filesystemService);
    },
    contextValues: (req) => {
      const values = createContextValues();
      values.set(kSandbox, routed.get(req as IncomingMessage));
      values.set(kFaults, opts.faults);
      return values;
    },
  });

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://envd');
    const route = routeOf(url.pathname);
    if (opts.onRequest) res.once('finish', () => opts.onRequest!(route, res.statusCode));
    const isRpc = route.startsWith('process.') || route.startsWith('filesystem.');
    const fail = (status: number, message: string) =>
      sendJson(res, status, isRpc ? { code: CONNECT_CODES[status] ?? 'unknown', message } : { code: status, message });

    const signature = url.pathname === '/files' ? url.searchParams.get('signature') : null;
    const signed = (sb: EnvdSandbox) =>
      signature !== null &&
      checkSignature(
        signature,
        url.searchParams.get('path') ?? '',
        req.method === 'GET' ? 'read' : 'write',
        url.searchParams.get('username') ?? '',
        sb.accessToken,
        url.searchParams.get('signature_expiration'),
      );
    if (signature !== null && signatureExpired(url.searchParams.get('signature_expiration'))) {
      fail(401, 'signature is already expired');
      return;
    }
    // As E2B's proxy: the sandbox comes from E2b-Sandbox-Id, or the host name (`PORT-ID.domain`),
    // or, for a signed /files URL on a shared sandbox URL, from the token that signed it.
    let sandboxId = sandboxIdOf(req);
    if (sandboxId === undefined && signature !== null)
      sandboxId = opts.directory.all().find((sb) => sb.state === 'running' && signed(sb))?.sandboxId;
    if (sandboxId === undefined) {
      if (url.pathname === '/health') {
        res.writeHead(204).end();
        return;
      }
      if (signature !== null) fail(401, 'invalid signature');
      else fail(400, 'missing E2b-Sandbox-Id header');
      return;
    }
    const sb = opts.directory.lookup(sandboxId);
    if (!sb || sb.state !== 'running') {
      fail(502, sb ? `sandbox ${sandboxId} is ${sb.state}` : `The sandbox ${sandboxId} was not found`);
      return;
    }
    if (url.pathname === '/health') {
      res.writeHead(204).end();
      return;
    }
    const token = req.headers['x-access-token'];
    const authorized = tokenMatches(typeof token === 'string' ? token : undefined, sb.accessToken) || signed(sb);
    if (!authorized) {
      fail(401, signature !== null ? 'invalid signature' : 'invalid or missing access token');
      return;
    }
    // The sandbox going away breaks this request's connection (see EnvdSandbox.gone).
    const drop = () => res.destroy();
    sb.gone.addEventListener('abort', drop, { once: true });
    res.once('close', () => sb.gone.removeEventListener('abort', drop));
    if (url.pathname === '/files') {
      const work =
        req.method === 'GET'
          ? handleGetFile(sb, url, req, res)
          : req.method === 'POST'
            ? handlePostFile(sb, url, req, res)
            : undefined;
      if (!work) {
        fail(405, `method ${req.method} not allowed`);
        return;
      }
      work.catch((err: unknown) => {
        if (res.headersSent) return res.destroy();
        const e = err instanceof HttpError ? err : new HttpError(500, (err as Error).message);
        fail(e.status, e.message);
      });
      return;
    }
    routed.set(req, sb);
    connect(req, res);
  };
}
