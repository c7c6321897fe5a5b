import { z } from 'zod';
import { bytes, duration } from '../../src/config/schema.js';
import { ProbeError, ProbeSkip } from '../../src/probe/reasons.js';
import { defineProbe } from '../../src/probe/types.js';
import { cv, median } from '../../src/stats/summary.js';
import { httpEndpoint } from '../sandbox/network.js';
import {
  bench,
  hostExec,
  parseCurlVersion,
  publishVersions,
  runCurlDownload,
  runOptions,
  runTool,
  wholeSeconds,
} from '../tools/index.js';

export const hostInternet = defineProbe({
  name: 'host.internet',
  family: 'host',
  load: ['network'],
  description:
    'Internet download bandwidth of the host (the seed ran speedtest): timed HTTP(S) GETs of a configured URL with curl, each on a fresh connection; median rate, TCP connect RTT and the coefficient of variation of the rates.',
  defaults: { interval: '1h', timeout: '5m', samples: 3 },
  options: z
    .object({
      /** HTTP(S) object to download: tens of MB from the network to compare (a CDN, the storage the templates come from). The probe is skipped without one. */
      url: z
        .string()
        .url()
        .refine((u) => /^https?:$/.test(new URL(u).protocol), 'expected an http:// or https:// URL')
        .optional(),
      /** Label value for the endpoint; default the URL's host[:port]. */
      endpoint: z.string().min(1).optional(),
      /** Smaller downloads fail: they measure TCP slow start and latency, not bandwidth. */
      min_bytes: bytes.default('1MiB'),
      /** Per-download limit. */
      download_timeout: duration.default('60s'),
    })
    .strict(),
  async run(ctx) {
    const opts = ctx.settings.options;
    if (!opts.url)
      throw new ProbeSkip(
        'not_configured',
        'host.internet: no URL configured (options.url); nothing on the internet is downloaded by default',
      );
    const url = opts.url;
    const exec = hostExec;
    const o = runOptions(ctx);
    const version = await runTool(exec, 'curl', ['--version'], { ...o, timeoutMs: 10_000 });
    publishVersions(ctx, { curl: parseCurlVersion(version.stdout) });
    const endpoint = opts.endpoint ?? httpEndpoint(url);
    const limit = wholeSeconds(opts.download_timeout);
    const downloads = [];
    for (let i = 0; i < ctx.settings.samples; i++) {
      const t = await bench(ctx, 'curl', () => runCurlDownload(exec, url, limit, o), { sample: i });
      if (t.sizeBytes < opts.min_bytes) {
        throw new ProbeError(
          'command_failed',
          `GET ${url} returned ${t.sizeBytes} bytes, under min_bytes (${opts.min_bytes}): too small to measure bandwidth`,
        );
      }
      downloads.push(t);
    }
    const rates = downloads.map((t) => t.bytesPerSecond);
    const labels = { scope: 'host', direction: 'download', endpoint };
    ctx.gauge('e2bbench_network_bandwidth_bytes_per_second', labels, median(rates));
    ctx.gauge('e2bbench_network_rtt_seconds', { scope: 'host', endpoint }, median(downloads.map((t) => t.rttSeconds)));
    if (rates.length >= 2) ctx.gauge('e2bbench_network_stability_cv_ratio', { scope: 'host', endpoint }, cv(rates));
    ctx.detail('results', { endpoint, downloads });
  },
});
