/**
 * Where the PromQL of this repository lives: recording and alert rules, and the dashboards'
 * panel targets and variable queries. Each expression comes with a place that names it in messages.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CATALOG, labelNamesOf, type MetricDef, type MetricName } from '../../../exporters/prometheus/catalog.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const RULES_DIR = join(ROOT, 'prometheus/rules');
export const TESTS_DIR = join(ROOT, 'prometheus/tests');
export const DASHBOARDS_DIR = join(ROOT, 'grafana/dashboards');

export interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

export function ruleFiles(): string[] {
  return readdirSync(RULES_DIR)
    .filter((f) => f.endsWith('.rules.yml'))
    .sort();
}

export function loadRules(): { file: string; group: RuleGroup; rule: Rule }[] {
  const out: { file: string; group: RuleGroup; rule: Rule }[] = [];
  for (const file of ruleFiles()) {
    const doc = parse(readFileSync(join(RULES_DIR, file), 'utf8')) as { groups: RuleGroup[] };
    for (const group of doc.groups) for (const rule of group.rules) out.push({ file, group, rule });
  }
  return out;
}

export function recordingRuleNames(): Set<string> {
  return new Set(loadRules().flatMap(({ rule }) => (rule.record ? [rule.record] : [])));
}

export interface DashboardJson {
  uid: string;
  title: string;
  panels: PanelJson[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
  [k: string]: unknown;
}

export interface PanelJson {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { type: string; uid: string }; exemplar?: boolean }[];
  repeat?: string;
}

export function loadDashboards(): { file: string; dashboard: DashboardJson }[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      dashboard: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as DashboardJson,
    }));
}

export interface Expr {
  /** e.g. "lifecycle.json › Start time p50 / p95 / p99 › B" or "lifecycle.rules.yml › <record>" */
  where: string;
  /** As written (dashboards: with Grafana variables). */
  raw: string;
  /** Plain PromQL (dashboards: variables substituted by the caller). */
  expr: string;
  source: 'dashboard' | 'variable' | 'recording' | 'alert';
}

/** `label_values(selector, label)` → selector; `label_values(label)` → undefined. */
export function labelValuesSelector(query: string): string | undefined {
  const m = /^\s*label_values\(\s*(.+),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$/s.exec(query);
  return m ? m[1] : undefined;
}

export function dashboardExprs(subst: (e: string) => string): Expr[] {
  const out: Expr[] = [];
  for (const { file, dashboard } of loadDashboards()) {
    for (const p of dashboard.panels)
      for (const t of p.targets ?? [])
        out.push({ where: `${file} › ${p.title} › ${t.refId}`, raw: t.expr, expr: subst(t.expr), source: 'dashboard' });
    for (const v of dashboard.templating.list) {
      if (v.type !== 'query') continue;
      const query = typeof v.query === 'string' ? v.query : (v.query as { query: string }).query;
      const inner = labelValuesSelector(query);
      if (inner)
        out.push({ where: `${file} › variable ${v.name}`, raw: query, expr: subst(inner), source: 'variable' });
    }
  }
  return out;
}

export function ruleExprs(): Expr[] {
  return loadRules().map(({ file, rule }) => ({
    where: `${file} › ${rule.record ?? rule.alert}${rule.labels && rule.record ? ` ${JSON.stringify(rule.labels)}` : ''}`,
    raw: rule.expr,
    expr: rule.expr,
    source: rule.record ? 'recording' : 'alert',
  }));
}

/** Series names Prometheus itself makes (not the exporter's). */
export const PROMETHEUS_SERIES: Record<string, string[] | 'any'> = {
  up: ['job', 'instance'],
  ALERTS: 'any',
};

/** The catalog family a series name belongs to, and the labels a selector on it may use. */
export function familyOf(series: string): { family: MetricName; labels: string[] } | undefined {
  const catalog = CATALOG as Record<string, MetricDef>;
  const scrape = ['job', 'instance'];
  if (catalog[series] && catalog[series].kind !== 'histogram')
    return { family: series as MetricName, labels: [...labelNamesOf(series as MetricName), ...scrape] };
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  if (m && catalog[m[1]]?.kind === 'histogram') {
    const extra = m[2] === 'bucket' ? ['le'] : [];
    return { family: m[1] as MetricName, labels: [...labelNamesOf(m[1] as MetricName), ...extra, ...scrape] };
  }
  return undefined;
}
