import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/load.js';
import { createHttpApp, listen } from '../../src/http/server.js';
import { Dispatcher } from '../../src/dispatch/dispatcher.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { failProbe, inlineProbe, makeRunner, okProbe } from '../helpers/fake-probes.js';

// A hand-built HttpApp: the scheduler's random source is fixed so no scheduled run fires during the
// test (first runs are due ~2 minutes out), which keeps the matrix showing the on-demand runs.
const xss = inlineProbe('fake.xss', async () => {
  throw new Error('<script>alert(1)</script>');
});
const probes = [okProbe, failProbe, xss];
const cfg = buildConfig(
  {
    targets: [
      { name: 'a', cloud_provider: 'local', cloud_region: 'r1' },
      { name: 'b', cloud_provider: 'aws', cloud_region: 'us-east-1', e2b: { domain: 'e2b.example.com' } },
    ],
    probes: { 'fake.fail': { targets: ['a'] } },
  },
  probes,
  { env: {} },
);
const { runner, metrics, store, tracing } = makeRunner();
const dispatcher = new Dispatcher({ runner, metrics });
const scheduler = new Scheduler(dispatcher, {
  jitterRatio: 0.1,
  maxStartOffsetMs: cfg.raw.scheduler.max_start_offset,
  random: () => 0.999,
});
let server: Server;
let base: string;

beforeAll(async () => {
  dispatcher.configure(cfg, cfg.targets);
  scheduler.apply(dispatcher.pairs(), { jitterRatio: 0.1, maxStartOffsetMs: cfg.raw.scheduler.max_start_offset });
  server = await listen(
    createHttpApp({
      version: '9.9.9-test',
      metrics,
      store,
      dispatcher,
      scheduler,
      config: () => cfg,
      reload: async () => ({ ok: true }),
      ready: () => true,
    }),
    '127.0.0.1:0',
  );
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

afterAll(async () => {
  scheduler.stop();
  dispatcher.stop();
  await new Promise<void>((r) => server.close(() => r()));
  await tracing.shutdown();
});

/** The matrix cell of probe × target (targets in config order). */
function cell(html: string, probe: string, targetIndex: number): string {
  const matrix = /<table id="matrix">([\s\S]*?)<\/table>/.exec(html)![1];
  const row = new RegExp(`<tr><th>${probe.replace('.', '\\.')}</th>(.*?)</tr>`).exec(matrix)![1];
  return row.match(/<td[\s\S]*?<\/td>/g)![targetIndex];
}

describe('status page', () => {
  it('shows each run in its matrix cell and failures with their trace ids', async () => {
    const post = (p: string) => fetch(`${base}${p}`, { method: 'POST' }).then((r) => r.json());
    const ok = await post('/probe/fake.ok?target=a');
    const fail = await post('/probe/fake.fail?target=a');
    const bad = await post('/probe/fake.xss?target=b');
    expect(ok.success).toBe(true);
    expect(fail.reason).toBe('parse_error');

    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('e2b-bench 9.9.9-test');
    expect(html).toContain('Config: (inline)');
    // Columns: the targets with their provider and region.
    expect(html).toMatch(/<th>a<br><small>local · r1 · base<\/small><\/th><th>b<br><small>aws · us-east-1 · base/);

    const okCell = cell(html, 'fake.ok', 0);
    expect(okCell).toMatch(/^<td class="ok"/);
    expect(okCell).toContain(`href="api/runs/${ok.id}"`);
    expect(okCell).toMatch(/next \d{4}-\d\d-\d\dT/);
    expect(cell(html, 'fake.ok', 1)).toContain('no run yet');

    const failCell = cell(html, 'fake.fail', 0);
    expect(failCell).toMatch(/^<td class="fail" title="could not parse the fake tool output"/);
    expect(failCell).toContain('failed: parse_error');
    expect(failCell).toContain(`href="api/runs/${fail.id}"`);
    // fake.fail is not configured for b.
    expect(cell(html, 'fake.fail', 1)).toBe('<td class="none">—</td>');

    const failures = /<table id="failures">([\s\S]*?)<\/table>/.exec(html)![1];
    const rows = failures.split('\n').filter((l) => l.startsWith('<tr><td>'));
    expect(rows).toHaveLength(2);
    expect(rows.some((r) => r.includes(`<code>${fail.traceId}</code>`) && r.includes('parse_error'))).toBe(true);
    expect(rows.some((r) => r.includes(`<code>${bad.traceId}</code>`))).toBe(true);
    expect(failures).not.toContain(ok.traceId);

    // Error text is escaped, never markup.
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
