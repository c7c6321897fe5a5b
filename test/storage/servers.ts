import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const require = createRequire(import.meta.url);

/** A free loopback port (the listener is closed again before the server binds it). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export interface LocalServer {
  pid: number;
  port: number;
  endpoint: string;
  stop(): Promise<void>;
}

async function startNodeServer(script: string, args: (port: number, dir: string) => string[]): Promise<LocalServer> {
  const dir = mkdtempSync(join(tmpdir(), 'e2bbench-storage-'));
  const port = await freePort();
  const child = spawn(process.execPath, [script, ...args(port, dir)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid!, 'SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}; stderr: ${stderr}`);
  }
  return { pid: child.pid!, port, endpoint: `http://127.0.0.1:${port}`, stop };
}

/** s3rver (S3-compatible, npm) with the given buckets. It checks access key ids, not SigV4 signatures. */
export function startS3rver(buckets: string[]): Promise<LocalServer> {
  const script = join(dirname(require.resolve('s3rver/package.json')), 'bin/s3rver.js');
  return startNodeServer(script, (port, dir) => [
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
  return startNodeServer(script, (port, dir) => [
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
