import { z } from 'zod';
import { duration } from '../../src/config/schema.js';
import { ProbeError, ProbeSkip } from '../../src/probe/reasons.js';
import { cv, median } from '../../src/stats/summary.js';
import { parseServer } from '../host/network.js';
import { bench, runCurlDownload, runIperf3, runOptions, type Iperf3Params, wholeSeconds } from '../tools/index.js';
import { measureSandboxes, defineSandboxProbe } from './common.js';

/** Endpoint label of an HTTP URL: its host[:port] (paths would only add cardinality). */
export function httpEndpoint(url: string): string {
  return new URL(url).host;
}

export const sandboxNetwork = defineSandboxProbe({
  name: 'sandbox.network',
  description:
    'From inside a sandbox to configured endpoints: iperf3 TCP upload/download bandwidth, retransmits and RTT; HTTP GET of an object with curl (TCP connect RTT, download rate); stability = coefficient of variation of the download rate over the repeats.',
  defaults: { interval: '15m', timeout: '5m', samples: 5 },
  options: {
    /** iperf3 server as HOST, HOST:PORT or [V6]:PORT, reachable from the sandboxes. */
    iperf3_server: z.string().min(1).optional(),
    iperf3_port: z.number().int().min(1).max(65535).default(5201),
    /** Length of each iperf3 run. */
    iperf3_time: duration.default('3s'),
    /** An object to download over HTTP(S) (a few MiB is enough), reachable from the sandboxes. */
    http_url: z.string().url().optional(),
    /** Per-download limit. */
    http_timeout: duration.default('60s'),
  },
  load: ['network'],
  async run(ctx) {
    const opts = ctx.settings.options;
    if (!opts.iperf3_server && !opts.http_url) {
      throw new ProbeSkip(
        'not_configured',
        'sandbox.network: no endpoint configured (options.iperf3_server and/or options.http_url); nothing on the public internet is measured by default',
      );
    }
    const o = runOptions(ctx);
    const iperf3 = opts.iperf3_server
      ? {
          endpoint: opts.iperf3_server,
          params: {
            ...parseServer(opts.iperf3_server, opts.iperf3_port),
            seconds: wholeSeconds(opts.iperf3_time),
          } satisfies Iperf3Params,
        }
      : undefined;
    const http = opts.http_url ? { endpoint: httpEndpoint(opts.http_url), url: opts.http_url } : undefined;

    const versions = { tools: [...(iperf3 ? ['iperf3'] : []), ...(http ? ['curl'] : [])] };
    await measureSandboxes(ctx, { versions, raw: 'runs' }, async (sb, { add, keep }) => {
      if (iperf3) {
        const { endpoint, params } = iperf3;
        const downloads: number[] = [];
        const rtts: number[] = [];
        for (let i = 0; i < ctx.settings.samples; i++) {
          for (const [direction, reverse] of [
            ['upload', false],
            ['download', true],
          ] as const) {
            const r = await bench(ctx, 'iperf3', () => runIperf3(sb.exec, { ...params, reverse }, o), {
              direction,
              sandbox: sb.index,
            });
            if (r.protocol !== 'tcp') throw new ProbeError('parse_error', 'iperf3 TCP run reported another protocol');
            const labels = { scope: 'sandbox', direction, endpoint };
            add('e2bbench_network_bandwidth_bytes_per_second', labels, r.bytesPerSecond);
            if (r.retransmits !== undefined) add('e2bbench_network_retransmits', labels, r.retransmits);
            // The sending side measures the RTT: the sandbox when it uploads.
            if (!reverse && r.meanRttSeconds !== undefined) rtts.push(r.meanRttSeconds);
            if (reverse) downloads.push(r.bytesPerSecond);
            keep({ endpoint, direction, ...r });
          }
        }
        if (rtts.length) add('e2bbench_network_rtt_seconds', { scope: 'sandbox', endpoint }, median(rtts));
        if (downloads.length >= 2)
          add('e2bbench_network_stability_cv_ratio', { scope: 'sandbox', endpoint }, cv(downloads));
      }

      if (http) {
        const { endpoint, url } = http;
        const rates: number[] = [];
        const rtts: number[] = [];
        const limit = wholeSeconds(opts.http_timeout);
        for (let i = 0; i < ctx.settings.samples; i++) {
          const t = await bench(ctx, 'curl', () => runCurlDownload(sb.exec, url, limit, o), { sandbox: sb.index });
          rates.push(t.bytesPerSecond);
          rtts.push(t.rttSeconds);
          add(
            'e2bbench_network_bandwidth_bytes_per_second',
            { scope: 'sandbox', direction: 'download', endpoint },
            t.bytesPerSecond,
          );
          keep({ endpoint, ...t });
        }
        add('e2bbench_network_rtt_seconds', { scope: 'sandbox', endpoint }, median(rtts));
        if (rates.length >= 2) add('e2bbench_network_stability_cv_ratio', { scope: 'sandbox', endpoint }, cv(rates));
      }
    });
  },
});
