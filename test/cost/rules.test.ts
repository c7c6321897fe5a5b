import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { costGauges, deriveCosts, derivedCostSeries } from '../../src/cost/index.js';
import { CASES } from './cases.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RULES = join(root, 'prometheus/rules/cost.rules.yml');
const TESTS = join(root, 'prometheus/tests/cost.test.yml');
const SCRAPE_LABELS = ['job', 'instance'];

/** Parses `name{a="b",c="d"}` (promtool series notation; our values have no quotes or commas). */
function parseSeries(text: string): { name: string; labels: Record<string, string> } {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}$/.exec(text.trim());
  if (!m) throw new Error(`cannot parse series ${text}`);
  const labels: Record<string, string> = {};
  for (const pair of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[pair[1]] = pair[2];
  return { name: m[1], labels };
}

const key = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`)
    .join(',')}}`;

interface TestFile {
  tests: {
    input_series: { series: string; values: string }[];
    promql_expr_test: { expr: string; exp_samples: { labels: string; value: number }[] }[];
  }[];
}
const testFile = parse(readFileSync(TESTS, 'utf8')) as TestFile;

const tmp: string[] = [];
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

describe('cost recording rules', () => {
  it('promtool: rules are valid and the rule tests pass', async () => {
    const check = await run('promtool', ['check', 'rules', RULES]);
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const t = await run('promtool', ['test', 'rules', TESTS]);
    expect(t.stdout).toContain('SUCCESS');
  });

  it('promtool: a wrong expectation fails (the comparison is real)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cost-rules-'));
    tmp.push(dir);
    mkdirSync(join(dir, 'rules'));
    mkdirSync(join(dir, 'tests'));
    copyFileSync(RULES, join(dir, 'rules/cost.rules.yml'));
    const broken = readFileSync(TESTS, 'utf8').replace('value: 1804.45', 'value: 1804.46');
    expect(broken).not.toBe(readFileSync(TESTS, 'utf8'));
    writeFileSync(join(dir, 'tests/cost.test.yml'), broken);
    const err = (await run('promtool', ['test', 'rules', join(dir, 'tests/cost.test.yml')]).then(
      () => undefined,
      (e: { stdout: string; stderr: string }) => e,
    ))!;
    expect(err).toBeDefined();
    expect(err.stdout + err.stderr).toMatch(/FAILED[\s\S]*exp: .*1\.80446E\+03[\s\S]*got: .*1\.80445E\+03/);
  });

  it('input series are exactly what costGauges() and the probes write for the test configs', () => {
    const fromFile = new Map<string, number>();
    for (const s of testFile.tests[0].input_series) {
      const { name, labels } = parseSeries(s.series);
      for (const l of SCRAPE_LABELS) delete labels[l];
      fromFile.set(key(name, labels), Number(s.values));
    }
    const fromTs = new Map<string, number>();
    for (const c of CASES) {
      const tl = {
        target: c.target.name,
        cloud_provider: c.target.cloud_provider,
        cloud_region: c.target.cloud_region,
      };
      for (const s of [...costGauges(c.target), ...c.measurements])
        fromTs.set(key(s.name, { ...tl, ...s.labels }), s.value);
    }
    expect([...fromFile.keys()].sort()).toEqual([...fromTs.keys()].sort());
    for (const [k, v] of fromTs) expect(fromFile.get(k), k).toBe(v);
  });

  it('deriveCosts() gives the same series and values as the recording rules', () => {
    const expected = new Map<string, number>();
    for (const t of testFile.tests[0].promql_expr_test) {
      for (const s of t.exp_samples) {
        const { name, labels } = parseSeries(s.labels);
        expect(name).toBe(t.expr);
        expected.set(key(name, labels), s.value);
      }
    }
    const actual = new Map<string, number>();
    for (const c of CASES) {
      const tl = {
        target: c.target.name,
        cloud_provider: c.target.cloud_provider,
        cloud_region: c.target.cloud_region,
      };
      for (const s of derivedCostSeries(deriveCosts(c.target, c.inputs)!))
        actual.set(key(s.name, { ...tl, ...s.labels }), s.value);
    }
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [k, v] of expected) {
      const got = actual.get(k)!;
      // the same float64 operations in the same order; only sums may associate differently
      expect(Math.abs(got - v), `${k}: ${got} vs ${v}`).toBeLessThanOrEqual(Math.abs(v) * 1e-12);
    }
  });

  it('every recording rule in cost.rules.yml is covered by the rule tests', () => {
    const rules = parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { record: string }[] }[] };
    const recorded = new Set(rules.groups.flatMap((g) => g.rules.map((r) => r.record)));
    const tested = new Set(testFile.tests[0].promql_expr_test.map((t) => t.expr));
    expect([...recorded].sort()).toEqual([...tested].sort());
  });
});
