import { z } from 'zod';
import { duration } from '../../src/config/schema.js';
import { ProbeSkip } from '../../src/probe/reasons.js';
import { defineProbe } from '../../src/probe/types.js';
import {
  bench,
  hostExec,
  recordToolVersions,
  runIperf3,
  runOptions,
  type Iperf3Params,
  wholeSeconds,
} from '../tools/index.js';

/** "host", "host:port" or "[v6]:port". */
export function parseServer(server: string, defaultPort: number): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  if (v6) return { host: v6[1], port: v6[2] ? Number(v6[2]) : defaultPort };
  const m = /^([^:]+):(\d+)$/.exec(server);
  return m ? { host: m[1], port: Number(m[2]) } : { host: server, port: defaultPort };
}

export const hostNetwork = defineProbe({
  name: 'host.network',
  family: 'host',
  load: ['cpu', 'network'],
  description:
    'iperf3 from the host to a configured server: TCP bandwidth both directions (-R), retransmits, RTT, and packets/s with small UDP datagrams.',
  defaults: { interval: '10m', timeout: '2m' },
  options: z
    .object({
      /** iperf3 server as HOST, HOST:PORT or [V6]:PORT; the probe is skipped without one. */
      server: z.string().min(1).optional(),
      port: z.number().int().min(1).max(65535).default(5201),
      /** Label value for the endpoint; default the server as written. */
      endpoint: z.string().min(1).optional(),
      /** Length of each iperf3 run. */
      time: duration.default('5s'),
      udp_datagram_bytes: z.number().int().min(16).max(65507).default(64),
      /** iperf3 -b for the UDP run; "0" sends as fast as the host can. */
      udp_bitrate: z.string().default('0'),
    })
    .strict(),
  async run(ctx) {
    const opts = ctx.settings.options;
    if (!opts.server)
      throw new ProbeSkip('not_configured', 'host.network: no iperf3 server configured (options.server)');
    const exec = hostExec;
    const o = runOptions(ctx);
    await recordToolVersions(ctx, exec, ['iperf3']);
    const endpoint = opts.endpoint ?? opts.server;
    const base: Iperf3Params = {
      ...parseServer(opts.server, opts.port),
      seconds: wholeSeconds(opts.time),
    };
    const results: Record<string, unknown> = {};

    for (const [direction, reverse] of [
      ['upload', false],
      ['download', true],
    ] as const) {
      const r = await bench(ctx, 'iperf3', () => runIperf3(exec, { ...base, reverse }, o), {
        protocol: 'tcp',
        direction,
      });
      if (r.protocol !== 'tcp') throw new Error('iperf3 TCP run reported another protocol');
      const labels = { scope: 'host', direction, endpoint };
      ctx.gauge('e2bbench_network_bandwidth_bytes_per_second', labels, r.bytesPerSecond);
      if (r.retransmits !== undefined) ctx.gauge('e2bbench_network_retransmits', labels, r.retransmits);
      if (r.meanRttSeconds !== undefined && !reverse)
        ctx.gauge('e2bbench_network_rtt_seconds', { scope: 'host', endpoint }, r.meanRttSeconds);
      results[direction] = r;
    }

    const udp = await bench(
      ctx,
      'iperf3',
      () => runIperf3(exec, { ...base, udp: { datagramBytes: opts.udp_datagram_bytes, bitrate: opts.udp_bitrate } }, o),
      { protocol: 'udp' },
    );
    if (udp.protocol !== 'udp') throw new Error('iperf3 UDP run reported another protocol');
    // Delivered datagrams: what the path carried, not what the sender managed to queue.
    ctx.gauge('e2bbench_network_packets_per_second', { scope: 'host', endpoint }, udp.receivedPacketsPerSecond);
    results.udp = udp;
    ctx.detail('results', results);
  },
});
