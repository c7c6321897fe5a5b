import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { selectors, substituteGrafanaVars, variableUses } from './lib/promql.js';
import {
  dashboardExprs,
  familyOf,
  loadDashboards,
  loadRules,
  PROMETHEUS_SERIES,
  recordingRuleNames,
  ruleExprs,
  type Expr,
} from './lib/sources.js';
import { run } from './lib/tools.js';

const exprs: Expr[] = [...dashboardExprs(substituteGrafanaVars), ...ruleExprs()];
const tmp = mkdtempSync(join(tmpdir(), 'e2bbench-promql-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('every PromQL expression of the dashboards and rules', () => {
  it('there are expressions from every source', () => {
    for (const source of ['dashboard', 'variable', 'recording', 'alert'] as const)
      expect(exprs.filter((e) => e.source === source).length, source).toBeGreaterThan(0);
  });

  // promtool has no "check expression": each expression becomes a recording rule of a temporary
  // rules file, which `promtool check rules` parses with Prometheus's own parser.
  it("parses with Prometheus's parser (promtool check rules)", () => {
    const file = join(tmp, 'exprs.rules.yml');
    const rules = exprs.map((e, i) => ({ record: `check:expr_${i}:parse`, expr: e.expr }));
    writeFileSync(file, stringify({ groups: [{ name: 'exprs', rules }] }));
    const r = run('promtool', ['check', 'rules', file]);
    const failed = [...r.stdout.matchAll(/check:expr_(\d+):parse/g)].map((m) => Number(m[1]));
    const message = [...new Set(failed)].map((i) => `${exprs[i].where}: ${exprs[i].expr}`).join('\n');
    expect(r.status, `${r.stdout}\n${r.stderr}\n${message}`).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
  });

  it('uses only metric names of the catalog, recording rules or Prometheus itself', () => {
    const recorded = recordingRuleNames();
    const unknown: string[] = [];
    for (const e of exprs)
      for (const s of selectors(e.expr))
        if (!familyOf(s.name) && !recorded.has(s.name) && !(s.name in PROMETHEUS_SERIES))
          unknown.push(`${e.where}: ${s.name}`);
    expect(unknown).toEqual([]);
  });

  it("uses only labels a selector's family has", () => {
    const wrong: string[] = [];
    for (const e of exprs)
      for (const s of selectors(e.expr)) {
        const allowed = familyOf(s.name)?.labels ?? PROMETHEUS_SERIES[s.name];
        if (!allowed || allowed === 'any') continue;
        for (const l of s.labels) if (!allowed.includes(l)) wrong.push(`${e.where}: ${s.name}{${l}}`);
      }
    expect(wrong).toEqual([]);
  });

  it('refers to recording rules with the label sets they record', () => {
    // A recording rule keeps the labels of its by/on clauses, of the series it reads when it does
    // not aggregate them away, and its own `labels:`. An over-approximation, computed from the rules
    // to a fixed point: enough to catch a misspelt or dropped label.
    const rules = loadRules().filter((r) => r.rule.record);
    const recordedLabels = new Map<string, Set<string>>();
    for (let changed = true; changed; ) {
      changed = false;
      for (const { rule } of rules) {
        const set = recordedLabels.get(rule.record!) ?? new Set<string>();
        const before = set.size;
        const grouping = [...rule.expr.matchAll(/\b(?:by|on)\s*\(([^)]*)\)/g)];
        for (const m of grouping) for (const l of m[1].split(',')) if (l.trim()) set.add(l.trim());
        for (const l of Object.keys(rule.labels ?? {})) set.add(l);
        for (const sel of selectors(rule.expr)) {
          for (const l of recordedLabels.get(sel.name) ?? []) set.add(l);
          if (grouping.length === 0) for (const l of familyOf(sel.name)?.labels ?? []) set.add(l);
        }
        recordedLabels.set(rule.record!, set);
        if (set.size !== before) changed = true;
      }
    }
    const wrong: string[] = [];
    for (const e of exprs)
      for (const s of selectors(e.expr)) {
        const labels = recordedLabels.get(s.name);
        if (labels) for (const l of s.labels) if (!labels.has(l)) wrong.push(`${e.where}: ${s.name}{${l}}`);
      }
    expect(wrong).toEqual([]);
  });
});

describe('dashboard template variables', () => {
  it('are defined on the dashboard and used only in =~ matchers (so "All" = ".*" works)', () => {
    const problems: string[] = [];
    for (const { file, dashboard } of loadDashboards()) {
      const defined = new Set(dashboard.templating.list.map((v) => v.name));
      const raw = [
        ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
        ...dashboard.templating.list.map((v) => ({ where: `variable ${v.name}`, expr: JSON.stringify(v.query) })),
      ];
      for (const { where, expr } of raw)
        for (const u of variableUses(expr)) {
          if (!defined.has(u.name)) problems.push(`${file} › ${where}: $${u.name} is not defined`);
          if (!u.inRegexMatcher && !where.startsWith('variable'))
            problems.push(`${file} › ${where}: $${u.name} outside a =~ matcher`);
        }
      for (const p of dashboard.panels)
        if (p.repeat && !defined.has(p.repeat)) problems.push(`${file} › ${p.title}: repeats undefined $${p.repeat}`);
    }
    expect(problems).toEqual([]);
  });
});
