import { describe, expect, it } from 'vitest';
import { HostSchema, TargetSchema, type TargetConfig } from '../../src/config/schema.js';
import { defineProbe } from '../../src/probe/types.js';
import { reportFromHistory } from '../../src/report/from-history.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { DEFAULT_WEIGHTS } from '../../src/report/model.js';
import { machineIdentity, machineTarget } from '../../src/targets/machine.js';
import { makeRunner, probeConfig } from '../helpers/fake-probes.js';

// Host figures in the report belong to the machine measured: through the real runner (labels,
// run records) into the report built from those records, in Markdown and HTML.
const hostProbe = defineProbe({
  name: 'test.host_cpu',
  family: 'host',
  description: 'records a host CPU score as host.cpu does',
  defaults: { interval: '1h', timeout: '30s' },
  async run(ctx) {
    ctx.gauge('e2bbench_cpu_events_per_second', { scope: 'host', threads: '2' }, 3210);
  },
});
const sandboxProbe = defineProbe({
  name: 'test.sandbox_cpu',
  family: 'sandbox',
  description: 'records a sandbox CPU score as sandbox.cpu does',
  defaults: { interval: '1h', timeout: '30s' },
  async run(ctx) {
    ctx.gauge('e2bbench_cpu_events_per_second', { scope: 'sandbox', threads: '2' }, 1500);
  },
});

const HOST_KEY = 'cpu_events_per_second{scope=host,threads=2}';

/** One target's record form in the Markdown report (up to the next second-level heading). */
function record(md: string, target: string): string {
  const start = md.indexOf(`## Record: ${target}`);
  expect(start, `record of ${target}`).toBeGreaterThanOrEqual(0);
  const next = md.indexOf('\n## ', start + 1);
  return md.slice(start, next < 0 ? undefined : next);
}

async function reportFor(targets: TargetConfig[]) {
  const { runner, store } = makeRunner();
  // The machine's own cloud labels differ from every target's: they must not leak onto one.
  const host = HostSchema.parse({
    name: 'bench-box',
    cloud_provider: 'hetzner',
    cloud_region: 'fsn1',
    instance_type: 'ccx13',
  });
  const machine = machineTarget(machineIdentity(host, targets), targets);
  for (const t of targets) await runner.run(probeConfig(sandboxProbe), t, { trigger: 'cli' });
  await runner.run(probeConfig(hostProbe), machine, { trigger: 'cli' });
  return reportFromHistory(store, {
    since: new Date(Date.now() - 60_000),
    until: new Date(Date.now() + 1000),
    weights: DEFAULT_WEIGHTS,
    config: targets,
  });
}

const aws = () => TargetSchema.parse({ name: 'aws-a', cloud_provider: 'aws', cloud_region: 'us-east-1' });
const gcp = (extra = {}) =>
  TargetSchema.parse({ name: 'gcp-b', cloud_provider: 'gcp', cloud_region: 'us-central1', ...extra });

describe('report: host figures per machine', () => {
  it('a machine under no target is listed apart with its own identity, and is no target', async () => {
    const r = await reportFor([aws(), gcp()]);
    expect(r.targets.map((t) => t.name).sort()).toEqual(['aws-a', 'gcp-b']);
    for (const t of r.targets) {
      expect(t.metrics[HOST_KEY]).toBeUndefined();
      expect(t.categories.host.missing).toBe(true);
      expect(t.hosts).toBeUndefined();
    }
    expect(r.machines).toHaveLength(1);
    const m = r.machines[0];
    expect(m).toMatchObject({
      host: 'bench-box',
      cloud_provider: 'hetzner',
      cloud_region: 'fsn1',
      instance_type: 'ccx13',
    });
    expect(m.metrics[HOST_KEY].value).toBe(3210);

    const md = renderMarkdown(r);
    const machines = md.slice(md.indexOf('## Machines'));
    expect(md).toContain('## Machines');
    expect(machines).toContain('### Machine: bench-box');
    expect(machines).toMatch(/Cloud: hetzner · region: fsn1 · instance type: ccx13/);
    expect(machines).toMatch(/CPU.*threads=2.*\| 3,?210/);
    // The summary and the records name only the targets.
    expect(md.slice(0, md.indexOf('## Machines'))).not.toContain('bench-box');

    const html = renderHtml(r);
    expect(html).toMatch(/<section class="machine" id="machine-bench-box">[\s\S]*instance type ccx13/);
    expect(html).toMatch(/id="machine-bench-box"[\s\S]*data-key="cpu_events_per_second\{scope=host,threads=2\}"/);
    expect(html).not.toMatch(/<th>bench-box/);
  });

  it('with host: self on one target, host figures sit under that target only, which keeps its own cloud', async () => {
    const r = await reportFor([aws(), gcp({ host: 'self' })]);
    expect(r.machines).toEqual([]);
    const byName = Object.fromEntries(r.targets.map((t) => [t.name, t]));
    expect(byName['gcp-b'].metrics[HOST_KEY].value).toBe(3210);
    expect(byName['gcp-b']).toMatchObject({ cloud_provider: 'gcp', cloud_region: 'us-central1', hosts: ['bench-box'] });
    expect(byName['gcp-b'].categories.host.missing).toBe(false);
    expect(byName['aws-a'].metrics[HOST_KEY]).toBeUndefined();
    expect(byName['aws-a'].categories.host.missing).toBe(true);

    const md = renderMarkdown(r);
    expect(md).not.toContain('## Machines');
    expect(record(md, 'gcp-b')).toMatch(/^Cloud: gcp · region: us-central1 .*host figures measured on bench-box/m);
    expect(record(md, 'gcp-b')).toMatch(/### 4\. Host performance\n\n\|.*\n.*\n\| Host CPU.*threads=2.*\| 3,?210/);
    expect(record(md, 'aws-a')).toMatch(/### 4\. Host performance\n\nNot measured in this period\./);

    const html = renderHtml(r);
    expect(html).toMatch(/id="target-gcp-b"[\s\S]*class="hosts">bench-box/);
    expect(html).not.toContain('<h2>Machines</h2>');
  });
});
