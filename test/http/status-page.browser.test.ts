import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter } from '../helpers/exporter.js';

// The status page as a person sees it: Debian's Chromium, headless, against the real exporter.
const CHROMIUM = '/usr/bin/chromium';

describe.runIf(existsSync(CHROMIUM))('status page in a browser', () => {
  let h: Awaited<ReturnType<typeof startExporter>>;
  let browser: Browser;
  const profile = mkdtempSync(join(tmpdir(), 'e2bbench-chromium-'));

  beforeAll(async () => {
    h = await startExporter(`
server: { listen: "127.0.0.1:0" }
enable_all_probes: false
targets: [{ name: lab, cloud_provider: aws, cloud_region: eu-west-1, e2b: { api_url: "http://127.0.0.1:9", sandbox_url: "http://127.0.0.1:9", api_key: k } }]
probes:
  host.info: {}
  lifecycle.ops: { samples: 1, timeout: 20s }
`);
    await h.run('host.info');
    await h.run('lifecycle.ops'); // nothing listens on port 9: a failure with a trace id
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.stop();
    rmSync(profile, { recursive: true, force: true });
  });

  it('shows targets × probes with results, and failures with their trace ids', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    await page.goto(`${h.url}/`);
    await expect(page.locator('#matrix th', { hasText: 'lab' }).count()).resolves.toBe(1);
    const infoRow = page.locator('#matrix tr', { has: page.locator('th', { hasText: 'host.info' }) });
    await expect(infoRow.locator('td.ok').count()).resolves.toBe(1);
    const opsRow = page.locator('#matrix tr', { has: page.locator('th', { hasText: 'lifecycle.ops' }) });
    expect(await opsRow.locator('td.fail').innerText()).toMatch(/failed: api_error/);
    const failed = h.exp.store.list({ probe: 'lifecycle.ops' })[0];
    expect(await page.locator('#failures').innerText()).toContain(failed.traceId);
    // The cell links to the run record.
    await opsRow.locator('td.fail a').click();
    expect(JSON.parse(await page.locator('body').innerText()).id).toBe(failed.id);
    await page.goto(`${h.url}/`);
    await page.screenshot({ path: process.env.E2BBENCH_SCREENSHOT ?? join(profile, 'status.png') });
  });
});
