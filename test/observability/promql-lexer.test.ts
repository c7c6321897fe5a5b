import { describe, expect, it } from 'vitest';
import { selectors, substituteGrafanaVars, variableUses } from './lib/promql.js';
import { labelValuesSelector } from './lib/sources.js';

// The checks over dashboards and rules are only as good as this extraction: pin its behaviour.
describe('PromQL selector extraction', () => {
  it('finds names and matcher labels, not functions, keywords or label lists', () => {
    const expr =
      'histogram_quantile(0.95, sum by (target, le) (rate(e2bbench_sandbox_start_seconds_bucket{start_type="cold", template=~"b.*"}[1h] offset 7d))) / on (target) group_left () max without (x) (foo:bar:baz) and up{job="e2b-bench"}';
    expect(selectors(expr).map(({ name, labels }) => ({ name, labels }))).toEqual([
      { name: 'e2bbench_sandbox_start_seconds_bucket', labels: ['start_type', 'template'] },
      { name: 'foo:bar:baz', labels: [] },
      { name: 'up', labels: ['job'] },
    ]);
    expect(selectors(expr)[0].matchers).toEqual([
      { label: 'start_type', op: '=', value: 'cold' },
      { label: 'template', op: '=~', value: 'b.*' },
    ]);
  });

  it('ignores label values, durations, numbers and string arguments', () => {
    const expr =
      'label_replace(vector(1e-9), "component", "start", "", "") or time() - last_run{probe!~"host.cpu"} > 3 * 60';
    expect(selectors(expr).map((s) => s.name)).toEqual(['last_run']);
  });

  it('reads __name__ selectors', () => {
    expect(selectors('{__name__="e2bbench_probe_success", target="a"}')).toEqual([
      { name: 'e2bbench_probe_success', labels: ['target'], matchers: [{ label: 'target', op: '=', value: 'a' }] },
    ]);
  });

  it('substitutes Grafana variables as "All" and interval variables as durations', () => {
    expect(substituteGrafanaVars('rate(x{target=~"$target", t=~"${template}"}[$__rate_interval])')).toBe(
      'rate(x{target=~".*", t=~".*"}[5m])',
    );
    expect(variableUses('x{target=~"$target"} / y{probe="$probe"}[$__range]')).toEqual([
      { name: 'target', inRegexMatcher: true },
      { name: 'probe', inRegexMatcher: false },
    ]);
  });

  it('extracts the selector of label_values()', () => {
    expect(
      labelValuesSelector('label_values(e2bbench_target_info{cloud_provider=~"$cloud_provider"}, cloud_region)'),
    ).toBe('e2bbench_target_info{cloud_provider=~"$cloud_provider"}');
    expect(labelValuesSelector('label_values(target)')).toBeUndefined();
  });
});
