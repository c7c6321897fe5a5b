import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { staleDashboards } from '../../grafana/src/generate.js';
import { renderDashboards } from '../../grafana/src/index.js';
import { loadDashboards, ROOT } from './lib/sources.js';
import { run } from './lib/tools.js';

const dashboards = loadDashboards();
const provisioning = (dir: string) =>
  readdirSync(join(ROOT, 'grafana/provisioning', dir))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => parse(readFileSync(join(ROOT, 'grafana/provisioning', dir, f), 'utf8')));
const datasources = provisioning('datasources').flatMap(
  (d: { datasources: { uid: string; type: string; jsonData?: Record<string, unknown> }[] }) => d.datasources,
);

describe('generated dashboards', () => {
  it('the committed JSON is what grafana/src generates (run: npm run dashboards)', async () => {
    expect(await staleDashboards()).toEqual([]);
  });

  it('the generator type-checks (tsc -p grafana/tsconfig.json)', () => {
    const r = run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(ROOT, 'grafana/tsconfig.json')]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('there are the six dashboards of the issue', () => {
    expect([...renderDashboards().keys()].sort()).toEqual(
      ['cost.json', 'cross-cloud.json', 'lifecycle.json', 'overview.json', 'performance.json', 'storage.json'].sort(),
    );
  });
});

describe.each(dashboards)('$file', ({ dashboard }) => {
  it('is provisionable: unique uid, fixed datasource uids, no __inputs', () => {
    expect(dashboards.filter((d) => d.dashboard.uid === dashboard.uid)).toHaveLength(1);
    expect(dashboard).not.toHaveProperty('__inputs');
    const uids = new Set(datasources.map((d) => d.uid));
    for (const p of dashboard.panels) {
      if (p.type === 'row') continue;
      expect(uids.has(p.datasource!.uid), `${p.title}: ${p.datasource!.uid}`).toBe(true);
      for (const t of p.targets ?? []) expect(uids.has(t.datasource!.uid)).toBe(true);
    }
    for (const v of dashboard.templating.list as { datasource?: { uid: string } }[])
      if (v.datasource) expect(uids.has(v.datasource.uid)).toBe(true);
  });

  it('has the variables target, cloud_provider, cloud_region, template, start_type', () => {
    expect(dashboard.templating.list.map((v) => v.name).sort()).toEqual(
      ['cloud_provider', 'cloud_region', 'start_type', 'target', 'template'].sort(),
    );
  });

  it('lays panels out on the 24-column grid without overlaps, with unique ids', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const taken = new Set<string>();
    for (const p of dashboard.panels) {
      const g = p.gridPos;
      expect(g.x >= 0 && g.w > 0 && g.x + g.w <= 24, `${p.title} ${JSON.stringify(g)}`).toBe(true);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(taken.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          taken.add(`${x},${y}`);
        }
    }
  });

  it('every panel has a title and at least one query; heatmaps ask for exemplars', () => {
    for (const p of dashboard.panels) {
      if (p.type === 'row') continue;
      expect(p.title).toBeTruthy();
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      if (p.type === 'heatmap') for (const t of p.targets!) expect(t.exemplar, p.title).toBe(true);
    }
  });
});

describe('provisioning', () => {
  it('Prometheus links exemplar trace ids to the trace data source', () => {
    const prom = datasources.find((d) => d.type === 'prometheus')!;
    const traces = datasources.find((d) => d.uid === 'e2bbench-traces')!;
    expect(['jaeger', 'tempo']).toContain(traces.type);
    expect(prom.jsonData?.exemplarTraceIdDestinations).toEqual([
      expect.objectContaining({ name: 'trace_id', datasourceUid: traces.uid }),
    ]);
  });

  it('the dashboard provider points where docker-compose mounts grafana/dashboards', () => {
    const [provider] = provisioning('dashboards').flatMap(
      (d: { providers: { options: { path: string } }[] }) => d.providers,
    );
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain(`./grafana/dashboards:${provider.options.path}:ro`);
  });

  it('Lifecycle and Storage have latency heatmaps with exemplars', () => {
    for (const file of ['lifecycle.json', 'storage.json']) {
      const d = dashboards.find((x) => x.file === file)!.dashboard;
      expect(d.panels.some((p) => p.type === 'heatmap' && p.targets!.every((t) => t.exemplar))).toBe(true);
    }
  });
});
