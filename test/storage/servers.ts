import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, portOpen, startProcess, waitFor } from '../helpers/processes.js';

const require = createRequire(import.meta.url);

export interface LocalServer {
  pid: number;
  port: number;
  endpoint: string;
  stop(): Promise<void>;
}

async function startNodeServer(
  name: string,
  script: string,
  args: (port: number, dir: string) => string[],
): Promise<LocalServer> {
  const dir = mkdtempSync(join(tmpdir(), 'e2bbench-storage-'));
  const port = await freePort();
  const proc = startProcess(name, process.execPath, [script, ...args(port, dir)]);
  const stop = async () => {
    await proc.stop(5000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`${name} on 127.0.0.1:${port}`, () => portOpen(port), proc, 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: proc.pid, port, endpoint: `http://127.0.0.1:${port}`, stop };
}

/** s3rver (S3-compatible, npm) with the given buckets. It checks access key ids, not SigV4 signatures. */
export function startS3rver(buckets: string[]): Promise<LocalServer> {
  const script = join(dirname(require.resolve('s3rver/package.json')), 'bin/s3rver.js');
  return startNodeServer('s3rver', script, (port, dir) => [
    '-d',
    dir,
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '--silent',
    ...buckets.flatMap((b) => ['--configure-bucket', b]),
  ]);
}

/** Azurite's blob service (npm). Containers are created by the test through the SDK. */
export function startAzurite(): Promise<LocalServer> {
  const script = join(dirname(require.resolve('azurite/package.json')), 'dist/src/blob/main.js');
  return startNodeServer('azurite', script, (port, dir) => [
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(port),
    '--location',
    dir,
    '--silent',
    '--skipApiVersionCheck',
    '--loose',
  ]);
}

/** Azurite's well-known development account (public, documented by Microsoft). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/**
 * A TCP proxy that forwards both ways at a limited rate per connection, so that a test can abort a
 * run while transfers are still in flight (and objects already exist).
 */
export class SlowProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly target: number,
    private readonly bytesPerSecond: number,
  ) {}

  private throttle(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      from.pause();
      to.write(chunk);
      setTimeout(() => from.resume(), (chunk.length / this.bytesPerSecond) * 1000);
    });
  }

  async start(): Promise<string> {
    this.server = createServer((client) => {
      const upstream = connect({ host: '127.0.0.1', port: this.target });
      this.sockets.add(client).add(upstream);
      const close = () => (client.destroy(), upstream.destroy());
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      this.throttle(client, upstream);
      this.throttle(upstream, client);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server!.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** A port with a listener that accepts connections and never answers (a black-holed endpoint). */
export async function silentServer(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const srv = createServer((s) => sockets.add(s.on('error', () => {})));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}
