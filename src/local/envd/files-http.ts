import { createReadStream, createWriteStream } from 'node:fs';
import { chown, lstat, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip, gunzipSync } from 'node:zlib';
import { fsReason } from './context.js';
import { makeDirs } from './filesystem-service.js';
import { boundaryOf, parseMultipart } from './multipart.js';
import { resolveInRoot, sandboxPath } from './paths.js';
import { metadataFromHeaders, readMetadata, writeMetadata } from './xattr.js';
import { resolveUser, UserError } from './session.js';
import type { EnvdSandbox } from './types.js';
import type { SandboxUser } from './users.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function httpFsError(err: unknown, what: string): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof UserError) return new HttpError(400, err.message);
  const code = (err as NodeJS.ErrnoException).code;
  const msg = `${what}: ${fsReason(err)}`;
  if (code === 'ENOENT') return new HttpError(404, msg);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new HttpError(507, msg);
  if (code === 'EACCES' || code === 'EPERM') return new HttpError(403, msg);
  if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'ELOOP') return new HttpError(400, msg);
  return new HttpError(500, msg);
}

async function userAndRoot(sb: EnvdSandbox, username: string | null): Promise<{ user: SandboxUser; root: string }> {
  const user = await resolveUser(sb, username || undefined);
  return { user, root: sb.driver.rootPath(sb.driverSandbox) };
}

export async function handleGetFile(
  sb: EnvdSandbox,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const p = url.searchParams.get('path');
  if (!p) throw new HttpError(400, 'path is required');
  let inside = p;
  try {
    const { user, root } = await userAndRoot(sb, url.searchParams.get('username'));
    inside = sandboxPath(p, user.home);
    const host = await resolveInRoot(root, inside);
    const st = await stat(host);
    if (st.isDirectory()) throw new HttpError(400, `${inside} is a directory`);
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment; filename=${JSON.stringify(path.posix.basename(inside))}`,
    };
    if (gzip) headers['content-encoding'] = 'gzip';
    else headers['content-length'] = st.size;
    res.writeHead(200, headers);
    const file = createReadStream(host);
    await (gzip ? pipeline(file, createGzip({ level: 1 }), res) : pipeline(file, res));
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    throw httpFsError(err, `read ${inside}`);
  }
}

async function prepareTarget(
  root: string,
  user: SandboxUser,
  inside: string,
): Promise<{ host: string; existed: boolean }> {
  await makeDirs(root, path.posix.dirname(inside), user);
  const host = await resolveInRoot(root, inside);
  const existed = await lstat(host).then(
    (s) => {
      if (s.isDirectory()) throw Object.assign(new Error(`${inside} is a directory`), { code: 'EISDIR' });
      return true;
    },
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return false;
      throw e;
    },
  );
  return { host, existed };
}

/** What envd answers for each written file; metadata (envd >= 0.6.2) stored as `user.*` xattrs. */
async function written(host: string, inside: string, metadata: Record<string, string>) {
  if (Object.keys(metadata).length > 0) await writeMetadata(host, metadata);
  const stored = (await readMetadata([host])).get(host);
  return { name: path.posix.basename(inside), type: 'file', path: inside, ...(stored ? { metadata: stored } : {}) };
}

export async function handlePostFile(
  sb: EnvdSandbox,
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const p = url.searchParams.get('path');
  const gz = /\bgzip\b/.test(String(req.headers['content-encoding'] ?? ''));
  const boundary = boundaryOf(req.headers['content-type']);
  let current = p ?? '';
  try {
    const { user, root } = await userAndRoot(sb, url.searchParams.get('username'));
    const results: Array<Awaited<ReturnType<typeof written>>> = [];
    const metadata = metadataFromHeaders(req.rawHeaders);
    if (!boundary) {
      if (!p) throw new HttpError(400, 'path is required');
      const inside = sandboxPath(p, user.home);
      current = inside;
      const { host, existed } = await prepareTarget(root, user, inside);
      await (gz ? pipeline(req, createGunzip(), createWriteStream(host)) : pipeline(req, createWriteStream(host)));
      if (!existed) await chown(host, user.uid, user.gid);
      results.push(await written(host, inside, metadata));
    } else {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      let body = Buffer.concat(chunks);
      if (gz) body = gunzipSync(body);
      const parts = parseMultipart(body, boundary).filter((part) => part.name === 'file');
      if (parts.length === 0) throw new HttpError(400, 'no file part in the upload');
      for (const part of parts) {
        const target = parts.length === 1 && p ? p : (part.filename ?? p);
        if (!target) throw new HttpError(400, 'path is required');
        const inside = sandboxPath(target, user.home);
        current = inside;
        const { host, existed } = await prepareTarget(root, user, inside);
        await writeFile(host, part.data);
        if (!existed) await chown(host, user.uid, user.gid);
        results.push(await written(host, inside, metadata));
      }
    }
    sendJson(res, 200, results);
  } catch (err) {
    throw httpFsError(err, `write ${current}`);
  }
}
