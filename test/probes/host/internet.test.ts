import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostInternet } from '../../../probes/host/index.js';
import { ProbeError, ProbeSkip } from '../../../src/probe/reasons.js';
import { runProbe, samplesOf, valueOf } from './helpers.js';

// The URL is this test's loopback server: the probe's path (curl, HTTP checks, labels) is the same
// for any URL, and tests reach nothing beyond loopback.
const OBJECT_BYTES = 4 << 20;
const object = Buffer.alloc(OBJECT_BYTES, 7);
let server: Server;
let base = '';
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/object') res.end(object);
    else if (req.url === '/tiny') res.end('x');
    else res.writeHead(404).end('no such object');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function failure(options: Record<string, unknown>): Promise<unknown> {
  return runProbe(hostInternet, options).then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('host.internet', () => {
  it('is skipped as not_configured without a URL, downloading nothing', async () => {
    const before = requests.length;
    const err = await failure({});
    expect(err).toBeInstanceOf(ProbeSkip);
    expect((err as ProbeSkip).reason).toBe('not_configured');
    expect((err as ProbeSkip).message).toMatch(/options\.url/);
    expect(requests.length).toBe(before);
  });

  it('downloads the URL once per sample: median rate, RTT and stability under the URL’s endpoint', async () => {
    const before = requests.length;
    const ctx = await runProbe(hostInternet, { url: `${base}/object` }, (c) => (c.settings.samples = 3));
    expect(requests.slice(before)).toEqual(['/object', '/object', '/object']);
    const endpoint = new URL(base).host;
    const labels = { scope: 'host', direction: 'download', endpoint };
    const rate = valueOf(ctx, 'e2bbench_network_bandwidth_bytes_per_second', labels);
    const downloads = (ctx.details.results as { downloads: { sizeBytes: number; bytesPerSecond: number }[] }).downloads;
    expect(downloads.map((d) => d.sizeBytes)).toEqual([OBJECT_BYTES, OBJECT_BYTES, OBJECT_BYTES]);
    // The published rate is the median of what curl measured (loopback moves far more than 1 MB/s).
    expect(rate).toBe([...downloads.map((d) => d.bytesPerSecond)].sort((a, b) => a - b)[1]);
    expect(rate).toBeGreaterThan(1e6);
    expect(valueOf(ctx, 'e2bbench_network_rtt_seconds', { scope: 'host', endpoint })).toBeGreaterThanOrEqual(0);
    expect(valueOf(ctx, 'e2bbench_network_stability_cv_ratio', { scope: 'host', endpoint })).toBeGreaterThanOrEqual(0);
    expect(ctx.details.versions).toHaveProperty('curl');
    expect(ctx.phases.map((p) => p.name)).toEqual(['bench.curl', 'bench.curl', 'bench.curl']);
  });

  it('labels the endpoint as configured', async () => {
    const ctx = await runProbe(
      hostInternet,
      { url: `${base}/object`, endpoint: 'cdn-eu' },
      (c) => (c.settings.samples = 1),
    );
    expect(samplesOf(ctx, 'e2bbench_network_bandwidth_bytes_per_second', { endpoint: 'cdn-eu' })).toHaveLength(1);
    // One download has no spread to report.
    expect(samplesOf(ctx, 'e2bbench_network_stability_cv_ratio')).toEqual([]);
  });

  it('publishes no bandwidth for an error answer or an object too small to measure', async () => {
    const missing = await failure({ url: `${base}/missing` });
    expect(missing).toBeInstanceOf(ProbeError);
    expect(missing).toMatchObject({ reason: 'command_failed', message: /HTTP 404/ });
    const tiny = await failure({ url: `${base}/tiny` });
    expect(tiny).toMatchObject({ reason: 'command_failed', message: /1 bytes, under min_bytes/ });
  });

  it('takes only http(s) URLs, strictly', () => {
    expect(() => hostInternet.options!.parse({ url: 'ftp://127.0.0.1/object' })).toThrow(/http/);
    expect(() => hostInternet.options!.parse({ url: 'not a url' })).toThrow();
    expect(() => hostInternet.options!.parse({ url: `${base}/object`, extra: 1 })).toThrow();
    expect(hostInternet.options!.parse({}).min_bytes).toBe(1 << 20);
  });
});
