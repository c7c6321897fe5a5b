import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BUCKETS, MetricsRegistry } from '../../exporters/prometheus/registry.js';
import { percentile } from '../../src/stats/summary.js';
import { freePort, httpOk, startProcess, waitFor, type Proc } from '../helpers/processes.js';
import { instantQuery } from './lib/prometheus-api.js';

/**
 * Start samples around a 400 ms p50 with a long tail (log-normal, seeded): the shape real starts
 * have. The claim under test: histogram_quantile(0.95) over the start buckets, computed by a real
 * Prometheus from a real scrape, is within 5% of the exact p95 of the samples.
 */
function startSamples(n: number, medianSeconds: number, seed: number): number[] {
  let x = seed;
  const u = () => (x = (x * 48271) % 2147483647) / 2147483647;
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()); // Box-Muller
    return medianSeconds * Math.exp(0.35 * z);
  });
}

const SETS = [
  { name: 'fast', target: 'fast', samples: startSamples(300, 0.4, 17) },
  { name: 'slow', target: 'slow', samples: startSamples(300, 2.5, 29) },
  { name: 'tiny', target: 'tiny', samples: startSamples(200, 0.05, 43) },
];

describe('start histogram buckets against real Prometheus', () => {
  let tmp: string;
  let server: Server;
  let prometheus: Proc | undefined;
  let promBase: string;
  const fine = new MetricsRegistry();
  const coarse = new MetricsRegistry(DEFAULT_BUCKETS);

  beforeAll(async () => {
    for (const s of SETS) {
      const labels = {
        target: s.target,
        cloud_provider: 'local',
        cloud_region: 'it',
        template: 'base',
        start_type: 'warm',
      };
      for (const v of s.samples) {
        fine.observe('e2bbench_sandbox_start_seconds', labels, v);
        coarse.observe('e2bbench_sandbox_start_seconds', { ...labels, target: `${s.target}-coarse` }, v);
      }
    }
    server = createServer((req, res) => {
      void Promise.all([fine.render(false), coarse.render(false)]).then(([a, b]) => {
        // Two registries, one family: keep the second's samples only (its HELP/TYPE would repeat).
        const samples = b.body.split('\n').filter((l) => l.startsWith('e2bbench_sandbox_start_seconds'));
        res.writeHead(200, { 'content-type': a.contentType }).end(`${a.body}${samples.join('\n')}\n`);
      });
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    tmp = mkdtempSync(join(tmpdir(), 'e2bbench-buckets-'));
    const promPort = await freePort();
    writeFileSync(
      join(tmp, 'prometheus.yml'),
      `global: { scrape_interval: 1s }\nscrape_configs: [{ job_name: e2b-bench, static_configs: [{ targets: ["127.0.0.1:${port}"] }] }]\n`,
    );
    prometheus = startProcess('prometheus', 'prometheus', [
      `--config.file=${join(tmp, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(tmp, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ]);
    promBase = `http://127.0.0.1:${promPort}`;
    await waitFor('prometheus /-/ready', () => httpOk(`${promBase}/-/ready`), prometheus, 60_000);
    await waitFor(
      'the first scrape',
      async () => (await instantQuery(promBase, 'e2bbench_sandbox_start_seconds_count')).length === 2 * SETS.length,
      prometheus,
      60_000,
    );
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await new Promise((r) => server?.close(r));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function p95(target: string): Promise<number> {
    const r = await instantQuery(
      promBase,
      `histogram_quantile(0.95, sum by (le) (e2bbench_sandbox_start_seconds_bucket{target="${target}"}))`,
    );
    return Number(r[0].value[1]);
  }

  it.each(SETS)('$name: histogram_quantile(0.95) is within 5% of the exact p95', async (s) => {
    const exact = percentile(
      [...s.samples].sort((a, b) => a - b),
      95,
    );
    const estimate = await p95(s.target);
    expect(Math.abs(estimate - exact) / exact, `estimate ${estimate} vs exact ${exact}`).toBeLessThan(0.05);
  });

  it('the old 2.5×-apart buckets miss the same claim (the test can tell)', async () => {
    const errors = await Promise.all(
      SETS.map(async (s) => {
        const exact = percentile(
          [...s.samples].sort((a, b) => a - b),
          95,
        );
        return Math.abs((await p95(`${s.target}-coarse`)) - exact) / exact;
      }),
    );
    expect(Math.max(...errors)).toBeGreaterThan(0.05);
  });
});
