import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { freePort, portOpen, startProcess, waitFor } from '../helpers/processes.js';

// Endpoints for the in-sandbox network and package-install probes: an iperf3 server, an HTTP
// object, a tiny PEP 503 index and a tiny npm registry, each serving one package. They listen on
// the address sandboxes reach the host at: the local runtime's gateway address (isolated network),
// or loopback.

export const DEMO_PACKAGE = { pip: 'e2bbench-demo==1.0.0', npm: 'e2bbench-demo@1.0.0' };
export const OBJECT_BYTES = 2 * 1024 * 1024;

export interface Iperf3Server {
  port: number;
  stop(): Promise<void>;
}

export async function startIperf3Server(host = '127.0.0.1'): Promise<Iperf3Server> {
  const port = await freePort();
  const proc = startProcess('iperf3 -s', 'iperf3', ['-s', '-B', host, '-p', String(port)]);
  try {
    await waitFor(`iperf3 server on ${host}:${port}`, () => portOpen(port, host), proc, 10_000);
  } catch (err) {
    await proc.stop(5000);
    throw err;
  }
  return { port, stop: () => proc.stop(5000) };
}

interface Artifacts {
  wheelName: string;
  wheel: Buffer;
  tgz: Buffer;
}

/** A pure-Python wheel and an npm tarball of `e2bbench-demo` 1.0.0, built with python3 and tar. */
async function buildArtifacts(dir: string): Promise<Artifacts> {
  const wheelName = 'e2bbench_demo-1.0.0-py3-none-any.whl';
  const script = `
import base64, hashlib, sys, zipfile
files = {
    "e2bbench_demo/__init__.py": b"VALUE = 42\\n",
    "e2bbench_demo-1.0.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: e2bbench-demo\\nVersion: 1.0.0\\n",
    "e2bbench_demo-1.0.0.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: e2bbench-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = "".join(
    f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\\n"
    for p, d in files.items()
) + "e2bbench_demo-1.0.0.dist-info/RECORD,,\\n"
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for p, d in files.items():
        z.writestr(p, d)
    z.writestr("e2bbench_demo-1.0.0.dist-info/RECORD", record)
`;
  await execa('python3', ['-c', script, join(dir, wheelName)]);
  mkdirSync(join(dir, 'package'));
  writeFileSync(
    join(dir, 'package', 'package.json'),
    JSON.stringify({ name: 'e2bbench-demo', version: '1.0.0', main: 'index.js' }),
  );
  writeFileSync(join(dir, 'package', 'index.js'), 'module.exports = 42;\n');
  await execa('tar', ['-czf', join(dir, 'demo.tgz'), '-C', dir, 'package']);
  return { wheelName, wheel: readFileSync(join(dir, wheelName)), tgz: readFileSync(join(dir, 'demo.tgz')) };
}

export interface PackageServer {
  url: string;
  objectUrl: string;
  pipIndexUrl: string;
  npmRegistry: string;
  /** Requests served, by path (to check the probes really downloaded). */
  hits: Map<string, number>;
  stop(): Promise<void>;
}

export async function startPackageServer(host = '127.0.0.1'): Promise<PackageServer> {
  const dir = mkdtempSync(join(tmpdir(), 'e2bbench-pkgs-'));
  const a = await buildArtifacts(dir);
  const object = Buffer.alloc(OBJECT_BYTES, 7);
  const hits = new Map<string, number>();
  let base = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const send = (type: string, body: Buffer | string) => {
      res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (path === '/object') return send('application/octet-stream', object);
    if (path === '/simple/e2bbench-demo/') {
      const sha = createHash('sha256').update(a.wheel).digest('hex');
      return send(
        'text/html',
        `<html><body><a href="/files/${a.wheelName}#sha256=${sha}">${a.wheelName}</a></body></html>`,
      );
    }
    if (path === `/files/${a.wheelName}`) return send('application/octet-stream', a.wheel);
    if (path === '/npm/e2bbench-demo') {
      const packument = {
        name: 'e2bbench-demo',
        'dist-tags': { latest: '1.0.0' },
        versions: {
          '1.0.0': {
            name: 'e2bbench-demo',
            version: '1.0.0',
            main: 'index.js',
            dist: {
              tarball: `${base}/npm/e2bbench-demo/-/e2bbench-demo-1.0.0.tgz`,
              shasum: createHash('sha1').update(a.tgz).digest('hex'),
              integrity: `sha512-${createHash('sha512').update(a.tgz).digest('base64')}`,
            },
          },
        },
      };
      return send('application/json', JSON.stringify(packument));
    }
    if (path === '/npm/e2bbench-demo/-/e2bbench-demo-1.0.0.tgz') return send('application/octet-stream', a.tgz);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  base = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    objectUrl: `${base}/object`,
    pipIndexUrl: `${base}/simple/`,
    npmRegistry: `${base}/npm/`,
    hits,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
