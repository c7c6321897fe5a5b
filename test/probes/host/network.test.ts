import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostNetwork } from '../../../probes/host/index.js';
import { parseServer } from '../../../probes/host/network.js';
import { ProbeError, ProbeSkip } from '../../../src/probe/reasons.js';
import { runProbe, valueOf } from './helpers.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

let server: ChildProcess | undefined;
let port = 0;

beforeAll(async () => {
  port = await freePort();
  // Not -1: the probe makes three client runs against one server.
  server = spawn('iperf3', ['-s', '-B', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const end = Date.now() + 10_000;
  while (!(await accepting(port))) {
    if (Date.now() > end) throw new Error('iperf3 server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  // Our probe connection above counts as a client to iperf3; give it a moment to reset.
  await new Promise((r) => setTimeout(r, 300));
});

afterAll(async () => {
  if (server?.pid !== undefined && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    process.kill(server.pid, 'SIGTERM');
    await exited;
  }
});

describe('host.network', () => {
  it('measures TCP both ways and UDP packets/s against a loopback iperf3 server', async () => {
    const endpoint = `127.0.0.1:${port}`;
    const ctx = await runProbe(hostNetwork, { server: endpoint, time: '1s' });
    for (const direction of ['upload', 'download']) {
      expect(
        valueOf(ctx, 'e2bbench_network_bandwidth_bytes_per_second', { scope: 'host', direction, endpoint }),
      ).toBeGreaterThan(0);
      expect(
        valueOf(ctx, 'e2bbench_network_retransmits', { scope: 'host', direction, endpoint }),
      ).toBeGreaterThanOrEqual(0);
    }
    expect(valueOf(ctx, 'e2bbench_network_packets_per_second', { scope: 'host', endpoint })).toBeGreaterThan(0);
    const rtt = valueOf(ctx, 'e2bbench_network_rtt_seconds', { scope: 'host', endpoint });
    expect(rtt).toBeGreaterThan(0);
    expect(rtt).toBeLessThan(1);
    expect(ctx.phases.filter((p) => p.name === 'bench.iperf3')).toHaveLength(3);
    expect(ctx.details.versions).toHaveProperty('iperf3');
  });

  it('is skipped, not failed, without a server', async () => {
    const err = await runProbe(hostNetwork).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProbeSkip);
    expect((err as ProbeSkip).reason).toBe('not_configured');
    expect((err as ProbeSkip).message).toBe('host.network: no iperf3 server configured (options.server)');
  });

  it('a server that does not answer is command_failed with iperf3 own words', async () => {
    const closed = await freePort();
    const err = await runProbe(hostNetwork, { server: `127.0.0.1:${closed}`, time: '1s' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProbeError);
    expect((err as ProbeError).reason).toBe('command_failed');
    expect((err as ProbeError).message).toMatch(/unable to connect/);
  });

  it('parses server addresses', () => {
    expect(parseServer('10.0.0.1:5202', 5201)).toEqual({ host: '10.0.0.1', port: 5202 });
    expect(parseServer('iperf.internal', 5201)).toEqual({ host: 'iperf.internal', port: 5201 });
    expect(parseServer('[fd00::1]:6000', 5201)).toEqual({ host: 'fd00::1', port: 6000 });
    expect(parseServer('[fd00::1]', 5201)).toEqual({ host: 'fd00::1', port: 5201 });
  });
});
