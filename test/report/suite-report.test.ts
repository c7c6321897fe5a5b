import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Exporter } from '../../src/app/exporter.js';
import { defaultPlugins } from '../../src/app/plugins.js';
import { GvisorDriver } from '../../src/local/driver/gvisor.js';
import type { Report } from '../../src/report/model.js';
import type { RunRecord } from '../../src/results/run-record.js';
import { canRunSandboxes, startFixture, type RuntimeFixture } from '../local/helpers.js';

// The one-shot suite as a CI job runs it, against two real local-runtime targets: the embedded
// runtime (namespace driver) and a second runtime with the gVisor driver. Then the reports it
// wrote, and the status page over the same history, in Debian's Chromium.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const CLI = ['--import', 'tsx', join(ROOT, 'test/observability/lib/run-cli.ts')];

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  execa('node', [...CLI, ...args], { cwd: ROOT, reject: false, env, timeout: 600_000 });

describe.runIf(canRunSandboxes && GvisorDriver.available())('e2b-bench suite and report: namespace vs gVisor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'e2bbench-suite-'));
  const history = join(dir, 'history.sqlite');
  let gvisor: RuntimeFixture;
  let config: string;
  let suite: Awaited<ReturnType<typeof cli>>;

  const yaml = (thresholds: string) => `
server: { listen: "127.0.0.1:0" }
history: { path: ${JSON.stringify(history)} }
enable_all_probes: false
targets:
  - { name: ns, cloud_provider: local, cloud_region: localhost }
  - name: gvisor
    cloud_provider: local
    cloud_region: localhost
    e2b: { api_url: "${gvisor.rt.apiUrl}", sandbox_url: "${gvisor.rt.sandboxUrl}", api_key: "${gvisor.rt.apiKey}", admin_token: "${gvisor.rt.adminToken}" }
probes:
  lifecycle.warm_start: { samples: 3, pause_between: 0 }
  sandbox.cpu: { samples: 1, time: 1s, threads: [1], host_baseline: false }
thresholds:
${thresholds}
`;

  beforeAll(async () => {
    gvisor = await startFixture({ driver: 'gvisor', poolSize: 1 });
    config = join(dir, 'suite.yml');
    writeFileSync(
      config,
      yaml(`  lifecycle.warm_start.p50: "< 1h"\n  "sandbox.cpu.events_per_second{threads=1}": "> 1"`),
    );
    suite = await cli(['suite', '--config', config, '--out', join(dir, 'report.html')]);
  }, 900_000);

  afterAll(async () => {
    await gvisor?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const runsOf = async (probe: string, target: string): Promise<RunRecord[]> => {
    const { RunHistory } = await import('../../src/results/history.js');
    const h = RunHistory.open({ path: history, retentionMs: 86_400_000 });
    try {
      return h.list({ probe, target });
    } finally {
      await h.close();
    }
  };

  it('runs every probe once per target with progress on stderr, passes its thresholds (exit 0) and writes the HTML report', () => {
    expect(suite.stderr).toMatch(/\[1\/4\] lifecycle\.warm_start @ ns/);
    expect(suite.stderr).toMatch(/\[4\/4\] sandbox\.cpu @ gvisor: ok in/);
    expect(suite.stderr).toMatch(/ETA ~/);
    expect(suite.stderr).toMatch(/ok {3}lifecycle\.warm_start\.p50 on gvisor: measured [\d.]+, threshold < 1h/);
    expect(suite.stderr).toMatch(/all 4 threshold check\(s\) hold/);
    expect(suite.exitCode).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|<link|src="http|url\(http/);
    for (const t of ['ns', 'gvisor']) expect(html).toContain(`id="target-${t}"`);
  });

  it("report in JSON and Markdown names both targets with scores and ranks; its p95 is the run record's", async () => {
    const json = await cli(['report', '--config', config, '--since', '1h', '--format', 'json']);
    expect(json.exitCode).toBe(0);
    const r = JSON.parse(json.stdout) as Report;
    expect(r.targets.map((t) => t.name).sort()).toEqual(['gvisor', 'ns']);
    expect(r.targets.map((t) => t.rank).sort()).toEqual([1, 2]);
    for (const t of r.targets) {
      expect(t.score).toBeGreaterThan(0);
      expect(t.score).toBeLessThanOrEqual(1);
      expect(t.categories.start.missing).toBe(false);
      expect(t.categories.in_sandbox.missing).toBe(false);
      // Nothing measured the host, storage or isolation: marked, not scored 0.
      expect(t.categories.storage).toMatchObject({ missing: true });
      expect(t.coverage).toBeCloseTo(0.45, 5);
      const [run] = await runsOf('lifecycle.warm_start', t.name);
      const stats = run.details.stats as { p95: number; n: number };
      expect(t.metrics['lifecycle.warm_start.p95'].value).toBe(stats.p95);
      expect(t.metrics['lifecycle.warm_start.p95'].n).toBe(stats.n);
    }
    // The best target of each input scores 1.
    const best = Math.max(...r.targets.map((t) => t.categories.start.inputs.warm_p50.normalised));
    expect(best).toBe(1);

    const md = await cli(['report', '--config', config, '--since', '1h', '--format', 'md']);
    expect(md.stdout).toMatch(/\| Metric \| (ns|gvisor) \| (ns|gvisor) \|/);
    expect(md.stdout).toMatch(/\| \*\*Rank\*\* \| {2}\| \*\*[12]\*\* \| \*\*[12]\*\* \|/);
    expect(md.stdout).toMatch(/\| Storage \| 10 % \| no data \| no data \|/);
    expect(md.stdout).toContain('## Record: ns');
    expect(md.stdout).toContain('## Record: gvisor');
  });

  it('a failing threshold exits 1 and prints it with the measured value; an unknown key exits 2 naming it', async () => {
    const failing = join(dir, 'failing.yml');
    writeFileSync(failing, yaml('  lifecycle.warm_start.p50: "< 1us"'));
    const r = await cli([
      'suite',
      '--config',
      failing,
      '--probe',
      'lifecycle.warm_start',
      '--target',
      'ns',
      '--samples',
      '2',
    ]);
    expect(r.stderr).toMatch(/FAIL lifecycle\.warm_start\.p50 on ns: measured [\d.e-]+, threshold < 1us/);
    expect(r.stderr).toMatch(/1 of 1 threshold check\(s\) failed/);
    expect(r.exitCode).toBe(1);

    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, yaml('  lifecycle.warm_start.p42: "< 1s"'));
    const b = await cli(['suite', '--config', bad]);
    expect(b.stderr).toContain('thresholds["lifecycle.warm_start.p42"]: unknown statistic');
    expect(b.exitCode).toBe(2);
  });

  describe.runIf(existsSync(CHROMIUM))('in a browser', () => {
    let browser: Browser;
    let exp: Exporter;
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      // The status page of an exporter serving the history the suite wrote.
      exp = await Exporter.start({ configFile: config, schedule: false }, defaultPlugins());
    }, 300_000);
    afterAll(async () => {
      await browser?.close();
      await exp?.stop();
    });

    const open = async (url: string): Promise<{ page: Page; errors: string[] }> => {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
      page.on('pageerror', (e) => void errors.push(e.message));
      page.on('requestfailed', (r) => void errors.push(`request failed: ${r.url()}`));
      await page.goto(url);
      return { page, errors };
    };

    it('loads the HTML report with no console error and shows both targets ranked', async () => {
      const { page, errors } = await open(`file://${join(dir, 'report.html')}`);
      const ranks = await page.locator('#score td.rank').allInnerTexts();
      expect(ranks.sort()).toEqual(['1', '2']);
      expect(await page.locator('svg.chart circle').count()).toBeGreaterThanOrEqual(4);
      await page.screenshot({
        path: process.env.E2BBENCH_REPORT_SCREENSHOT ?? join(dir, 'report.png'),
        fullPage: true,
      });
      expect(errors).toEqual([]);
    });

    it("the status page shows each target's figures as the history has them, with a link to /report", async () => {
      const base = `http://${exp.address}`;
      const { page, errors } = await open(`${base}/`);
      for (const t of ['ns', 'gvisor']) {
        const [warm] = (
          (await (await fetch(`${base}/api/runs?probe=lifecycle.warm_start&target=${t}&limit=1`)).json()) as {
            runs: RunRecord[];
          }
        ).runs;
        const cell = page.locator(`#figures td[data-figure="warm_p50"][data-target="${t}"]`);
        expect(Number(await cell.getAttribute('data-value'))).toBe((warm.details.stats as { p50: number }).p50);
        const [cpu] = await runsOf('sandbox.cpu', t);
        const eps = cpu.metrics.find((m) => m.name === 'e2bbench_cpu_events_per_second' && m.labels.threads === '1')!;
        const cpuCell = page.locator(`#figures td[data-figure="cpu_1t"][data-target="${t}"]`);
        expect(Number(await cpuCell.getAttribute('data-value'))).toBe(eps.value);
      }
      // Two warm runs of ns in the history: its sparkline has a line.
      expect(await page.locator('#figures td[data-figure="warm_p50"][data-target="ns"] svg polyline').count()).toBe(1);
      await page.locator('a[href="report"]').click();
      await page.waitForLoadState();
      expect(await page.locator('h1').innerText()).toBe('E2B benchmark comparison');
      expect(await page.locator('#score td.rank').count()).toBe(2);
      expect(errors).toEqual([]);
    });
  });
});
