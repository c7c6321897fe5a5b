import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { selectors } from './lib/promql.js';
import { loadDashboards, loadRules, ROOT, RULES_DIR, ruleFiles, TESTS_DIR } from './lib/sources.js';
import { run } from './lib/tools.js';

const ALERTS = [
  'ColdStartP95Regression',
  'WarmStartP50High',
  'SnapshotRestoreFailing',
  'ProbeFailing',
  'ProbeStale',
  'SandboxesLeaked',
  'BudgetExhausted',
  'ExporterDown',
];
const alertRules = loadRules().filter((r) => r.rule.alert);
const testFiles = readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith('.test.yml'))
  .sort();

describe('Prometheus configuration and rules', () => {
  it('promtool check rules passes on every rule file', () => {
    const r = run('promtool', ['check', 'rules', ...ruleFiles().map((f) => join(RULES_DIR, f))]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  for (const config of ['prometheus/prometheus.yml', 'compose/prometheus.yml'])
    it(`promtool check config ${config} (rules included)`, () => {
      const r = run('promtool', ['check', 'config', join(ROOT, config)]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      for (const f of ruleFiles()) expect(r.stdout).toContain(f);
    });

  for (const file of testFiles)
    it(`promtool test rules ${file}`, () => {
      const r = run('promtool', ['test', 'rules', file], { cwd: TESTS_DIR });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('SUCCESS');
      // promtool evaluates every alert case over its series: ~20 s alone, minutes beside the full suite.
    }, 240_000);

  // A case = a promql_expr_test that reads the recorded series and expects samples of it; for a
  // name recorded by several rules (one per static label set), samples carrying each rule's labels.
  it('every recording rule has a promtool case with expected samples', () => {
    const expected = new Map<string, Record<string, string>[]>();
    for (const file of testFiles) {
      const doc = parse(readFileSync(join(TESTS_DIR, file), 'utf8')) as {
        tests: { promql_expr_test?: { expr: string; exp_samples?: { labels: string }[] }[] }[];
      };
      for (const t of doc.tests)
        for (const c of t.promql_expr_test ?? []) {
          const samples = (c.exp_samples ?? []).map((s) =>
            Object.fromEntries([...s.labels.matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]])),
          );
          for (const { name } of selectors(c.expr)) expected.set(name, [...(expected.get(name) ?? []), ...samples]);
        }
    }
    const missing = loadRules()
      .filter(({ rule }) => rule.record)
      .filter(({ rule }) => {
        const own = Object.entries(rule.labels ?? {});
        return !(expected.get(rule.record!) ?? []).some((s) => own.every(([k, v]) => s[k] === v));
      })
      .map(({ file, rule }) => `${file} › ${rule.record}${rule.labels ? ` ${JSON.stringify(rule.labels)}` : ''}`);
    expect(missing).toEqual([]);
  });

  it('recording rules are named level:metric:operations', () => {
    const bad = loadRules()
      .flatMap(({ rule }) => (rule.record ? [rule.record] : []))
      .filter((n) => !/^[a-z_]+:e2bbench_[a-z0-9_]+:[a-z0-9_]+$/.test(n));
    expect(bad).toEqual([]);
  });
});

describe('alerts', () => {
  it('every alert of the issue exists, and no other', () => {
    expect([...new Set(alertRules.map((r) => r.rule.alert))].sort()).toEqual([...ALERTS].sort());
  });

  const uids = new Set(loadDashboards().map((d) => d.dashboard.uid));
  for (const { rule } of alertRules)
    it(`${rule.alert}${rule.labels?.stale ? ` (${rule.labels.stale})` : ''} has severity, summary, description, runbook and dashboard`, () => {
      expect(['critical', 'warning', 'info']).toContain(rule.labels?.severity);
      const a = rule.annotations ?? {};
      expect(a.summary).toBeTruthy();
      expect(a.description).toBeTruthy();
      expect(a.runbook_url).toBe(`docs/runbooks/${rule.alert}.md`);
      expect(existsSync(join(ROOT, a.runbook_url))).toBe(true);
      const uid = /^\/d\/([^/?]+)\//.exec(a.dashboard_url ?? '')?.[1];
      expect(uid && uids.has(uid), `dashboard_url ${a.dashboard_url} names a provisioned dashboard`).toBe(true);
    });

  // Every alert has a promtool case where it fires and one where it stays silent.
  it('every alert is unit-tested firing and silent', () => {
    const cases = new Map<string, { fires: number; silent: number }>();
    for (const file of testFiles) {
      const doc = parse(readFileSync(join(TESTS_DIR, file), 'utf8')) as {
        tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
      };
      for (const t of doc.tests)
        for (const a of t.alert_rule_test ?? []) {
          const c = cases.get(a.alertname) ?? { fires: 0, silent: 0 };
          if ((a.exp_alerts ?? []).length > 0) c.fires++;
          else c.silent++;
          cases.set(a.alertname, c);
        }
    }
    for (const alert of ALERTS) {
      expect(cases.get(alert)?.fires, `${alert} firing cases`).toBeGreaterThan(0);
      expect(cases.get(alert)?.silent, `${alert} silent cases`).toBeGreaterThan(0);
    }
  });

  it('every runbook says what the alert means, how to confirm it and what to try', () => {
    for (const alert of ALERTS) {
      const text = readFileSync(join(ROOT, 'docs/runbooks', `${alert}.md`), 'utf8');
      expect(text, alert).toMatch(new RegExp(`^# ${alert}`, 'm'));
      for (const heading of ['## What it means', '## Confirm on the dashboards', '## What to try'])
        expect(text, `${alert}: ${heading}`).toContain(heading);
    }
  });
});
