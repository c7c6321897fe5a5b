import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { Exporter } from '../../src/app/exporter.js';
import { reportFromPrometheus } from '../../src/report/prometheus.js';
import { freePort, httpOk, startProcess, waitFor, type Proc } from '../helpers/processes.js';

// The report built from a real Prometheus (Debian's) scraping a real exporter, whose probes are
// test probes with known values.
vi.mock('../../probes/index.js', async () => {
  const fakes = await import('../helpers/fake-probes.js');
  return { ALL_PROBES: fakes.FAKE_PROBES, probeByName: (n: string) => fakes.FAKE_PROBES.find((p) => p.name === n) };
});

describe('e2b-bench report --prometheus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'e2bbench-report-prom-'));
  let exp: Exporter;
  let prom: Proc;
  let base: string;

  beforeAll(async () => {
    const config = join(dir, 'config.yml');
    writeFileSync(
      config,
      `server: { listen: "127.0.0.1:0" }
targets:
  - { name: a, cloud_provider: aws, cloud_region: eu-west-1, e2b: { api_url: "http://127.0.0.1:9", sandbox_url: "http://127.0.0.1:9" } }
  - { name: b, cloud_provider: gcp, cloud_region: europe-west4, e2b: { api_url: "http://127.0.0.1:9", sandbox_url: "http://127.0.0.1:9" } }
probes: { fake.ok: { value: 7 } }
`,
    );
    exp = await Exporter.start({ configFile: config, schedule: false });
    const pc = { ...exp.config.probes.get('fake.ok')!, enabled: true };
    // The same probe as a host probe measures this machine (no target declares host: self): its
    // series carry the machine's host label and no target.
    const onMachine = { ...pc, probe: { ...pc.probe, family: 'host' as const }, options: { value: 9 } };
    const runAll = async () => {
      for (const t of exp.targets) await exp.runner.run(pc, t, { trigger: 'cli' });
      await exp.runner.run(onMachine, exp.machine, { trigger: 'cli' });
    };
    await runAll();
    const port = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s' },
        scrape_configs: [{ job_name: 'e2b-bench', static_configs: [{ targets: [exp.address] }] }],
      }),
    );
    prom = startProcess('prometheus', 'prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ]);
    base = `http://127.0.0.1:${port}`;
    await waitFor('prometheus /-/ready', () => httpOk(`${base}/-/ready`), prom, 60_000);
    // A second run after the first scrapes: the histogram's increase over the window is then > 0.
    const scraped = async () => {
      const r = await fetch(
        `${base}/api/v1/query?query=${encodeURIComponent('count(e2bbench_cpu_events_per_second)')}`,
      );
      const body = (await r.json()) as { data: { result: { value: [number, string] }[] } };
      return body.data.result[0]?.value[1] === '3';
    };
    await waitFor('the first scrape', scraped, prom, 60_000);
    await runAll();
    await new Promise((r) => setTimeout(r, 3000));
  }, 180_000);

  afterAll(async () => {
    await prom?.stop(10_000);
    await exp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds the comparison from Prometheus: figures, score and rank per target, CIs marked as not available', async () => {
    const until = new Date();
    const r = await reportFromPrometheus(base, {
      since: new Date(until.getTime() - 10 * 60_000),
      until,
      weights: exp.config.raw.report.weights,
    });
    expect(r.source).toBe('prometheus');
    expect(r.targets.map((t) => [t.name, t.cloud_provider]).sort()).toEqual([
      ['a', 'aws'],
      ['b', 'gcp'],
    ]);
    for (const t of r.targets) {
      const cpu = t.metrics['cpu_events_per_second{scope=host,threads=1}'];
      expect(cpu.value).toBe(7);
      expect(cpu.ciNote).toMatch(/not available from Prometheus/);
      const p50 = t.metrics['lifecycle.cold_start.p50'];
      // The probe observed 0.3 s twice: the bucket estimate lies in the bucket holding 0.3.
      expect(p50.value).toBeGreaterThan(0.1);
      expect(p50.value).toBeLessThan(0.6);
      expect(p50.ci).toBeUndefined();
      expect(p50.ciNote).toMatch(/not available from Prometheus/);
      expect(t.categories.host.missing).toBe(false);
      expect(t.categories.start.missing).toBe(false);
      expect(t.categories.storage.missing).toBe(true);
      expect(t.score).toBe(1);
    }
    expect(r.targets.map((t) => t.rank).sort()).toEqual([1, 2]);
    // This machine's host figures: apart from the targets, under its own name, not scored.
    expect(r.machines.map((m) => m.host)).toEqual([exp.machine.machine!.host]);
    expect(r.machines[0]).toMatchObject({ cloud_provider: 'unknown', instance_type: 'unknown' });
    expect(r.machines[0].metrics['cpu_events_per_second{scope=host,threads=1}'].value).toBe(9);
  });

  it('names the server when a query fails', async () => {
    await expect(
      reportFromPrometheus('http://127.0.0.1:9/', {
        since: new Date(Date.now() - 60_000),
        until: new Date(),
        weights: exp.config.raw.report.weights,
      }),
    ).rejects.toThrow(/Prometheus http:\/\/127\.0\.0\.1:9\//);
  });
});
