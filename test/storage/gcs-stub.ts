import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small in-memory server for the subset of the GCS JSON API that @google-cloud/storage uses for
 * our probes: bucket and object metadata, media download with Range, list, delete, multipart upload
 * and resumable upload. Nothing that speaks GCS's native API runs here, so this is a stub, not GCS.
 */
export interface GcsStubOptions {
  buckets: string[];
  /** Answer every request with 401 (as GCS does for bad credentials). */
  rejectAuth?: boolean;
  /** Fail the n-th upload (1-based) with a 503. */
  failUpload?: number;
}

export class GcsStub {
  readonly objects = new Map<string, Map<string, Buffer>>();
  private readonly sessions = new Map<string, { bucket: string; name: string; parts: Buffer[]; size: number }>();
  private server?: Server;
  private uploads = 0;
  requests = 0;
  url = '';

  constructor(private readonly opts: GcsStubOptions) {
    for (const b of opts.buckets) this.objects.set(b, new Map());
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.requests++;
      this.handle(req, res).catch((err) => send(res, 500, { error: { code: 500, message: String(err) } }));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  keys(bucket: string, prefix = ''): string[] {
    return [...(this.objects.get(bucket)?.keys() ?? [])].filter((k) => k.startsWith(prefix));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, this.url);
    const body = await readBody(req);
    if (this.opts.rejectAuth) return fail(res, 401, 'Invalid Credentials');
    const p = url.pathname.split('/').map(decodeURIComponent);
    // /storage/v1/b/{bucket}[/o[/{name}]]  or  /upload/storage/v1/b/{bucket}/o
    const upload = p[1] === 'upload';
    const base = upload ? 2 : 1;
    if (p[base] !== 'storage' || p[base + 1] !== 'v1' || p[base + 2] !== 'b') return fail(res, 404, 'Not Found');
    const bucket = p[base + 3];
    const store = this.objects.get(bucket);
    if (!store) return fail(res, 404, 'The specified bucket does not exist.');
    const name = p.length > base + 5 ? p.slice(base + 5).join('/') : undefined;

    if (upload) return this.upload(req, res, url, bucket, store, body);
    if (p.length === base + 4) return send(res, 200, { kind: 'storage#bucket', name: bucket, id: bucket });
    if (name === undefined && req.method === 'GET') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const items = [...store.entries()].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1));
      return send(res, 200, { kind: 'storage#objects', items: items.map(([k, v]) => meta(bucket, k, v)) });
    }
    const obj = name !== undefined ? store.get(name) : undefined;
    if (!obj || name === undefined) return fail(res, 404, `No such object: ${bucket}/${name}`);
    if (req.method === 'DELETE') {
      store.delete(name);
      res.writeHead(204).end();
      return;
    }
    if (url.searchParams.get('alt') === 'media') {
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (m) {
        const start = Number(m[1]);
        const end = m[2] ? Math.min(Number(m[2]), obj.length - 1) : obj.length - 1;
        res.writeHead(206, {
          'content-type': 'application/octet-stream',
          'content-length': end - start + 1,
          'content-range': `bytes ${start}-${end}/${obj.length}`,
        });
        res.end(obj.subarray(start, end + 1));
      } else {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': obj.length });
        res.end(obj);
      }
      return;
    }
    return send(res, 200, meta(bucket, name, obj));
  }

  private upload(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    bucket: string,
    store: Map<string, Buffer>,
    body: Buffer,
  ) {
    const type = url.searchParams.get('uploadType');
    if (type === 'multipart' && req.method === 'POST') {
      if (this.injectFailure(res)) return;
      const boundary = /boundary="?([^";]+)"?/.exec(req.headers['content-type'] ?? '')?.[1];
      if (!boundary) return fail(res, 400, 'no boundary');
      const { metadata, data } = parseMultipart(body, boundary);
      const name = (metadata.name as string) ?? url.searchParams.get('name')!;
      store.set(name, data);
      return send(res, 200, meta(bucket, name, data));
    }
    if (type === 'resumable' && req.method === 'POST') {
      if (this.injectFailure(res)) return;
      const metadata = body.length ? (JSON.parse(body.toString()) as { name?: string }) : {};
      const name = metadata.name ?? url.searchParams.get('name')!;
      const id = randomBytes(8).toString('hex');
      this.sessions.set(id, { bucket, name, parts: [], size: 0 });
      res.writeHead(200, {
        location: `${this.url}${url.pathname}?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`,
      });
      res.end();
      return;
    }
    if (type === 'resumable' && req.method === 'PUT') {
      const s = this.sessions.get(url.searchParams.get('upload_id') ?? '');
      if (!s) return fail(res, 404, 'no such upload');
      const m = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(req.headers['content-range'] ?? '');
      if (m && m[1] !== undefined) {
        if (Number(m[1]) !== s.size) return fail(res, 400, `expected offset ${s.size}`);
        s.parts.push(body);
        s.size += body.length;
      } else if (!m && body.length) {
        s.parts.push(body);
        s.size += body.length;
      }
      const total = m?.[3];
      if (total !== undefined && total !== '*' && Number(total) === s.size) {
        const data = Buffer.concat(s.parts);
        store.set(s.name, data);
        this.sessions.delete(url.searchParams.get('upload_id')!);
        return send(res, 200, meta(bucket, s.name, data));
      }
      if (!m) {
        const data = Buffer.concat(s.parts);
        store.set(s.name, data);
        return send(res, 200, meta(bucket, s.name, data));
      }
      res.writeHead(308, s.size > 0 ? { range: `bytes=0-${s.size - 1}` } : {});
      res.end();
      return;
    }
    return fail(res, 400, `unsupported upload ${req.method} ${type}`);
  }

  private injectFailure(res: ServerResponse): boolean {
    this.uploads++;
    if (this.opts.failUpload !== undefined && this.uploads === this.opts.failUpload) {
      fail(res, 503, 'injected failure');
      return true;
    }
    return false;
  }
}

function meta(bucket: string, name: string, data: Buffer) {
  return {
    kind: 'storage#object',
    bucket,
    name,
    id: `${bucket}/${name}/1`,
    generation: '1',
    size: String(data.length),
    contentType: 'application/octet-stream',
    md5Hash: createHash('md5').update(data).digest('base64'),
  };
}

function send(res: ServerResponse, status: number, json: unknown): void {
  const body = JSON.stringify(json);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function fail(res: ServerResponse, code: number, message: string): void {
  send(res, code, { error: { code, message, errors: [{ message, reason: code === 404 ? 'notFound' : 'error' }] } });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** multipart/related: a JSON part, then the media part. */
function parseMultipart(body: Buffer, boundary: string): { metadata: Record<string, unknown>; data: Buffer } {
  const delim = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let at = body.indexOf(delim);
  while (at !== -1) {
    const next = body.indexOf(delim, at + delim.length);
    if (next === -1) break;
    parts.push(body.subarray(at + delim.length, next));
    at = next;
  }
  const content = (part: Buffer) => {
    const h = part.indexOf('\r\n\r\n');
    let c = part.subarray(h + 4);
    if (c.subarray(-2).toString() === '\r\n') c = c.subarray(0, -2);
    return c;
  };
  return { metadata: JSON.parse(content(parts[0]).toString()), data: Buffer.from(content(parts[1])) };
}
