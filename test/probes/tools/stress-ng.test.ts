import { describe, expect, it } from 'vitest';
import { parseStressNgMetricsBrief, parseStressNgYaml, stressNgVmArgs } from '../../../probes/tools/index.js';
import { expectProbeError } from './expect-error.js';
import { fixture } from './fixtures.js';

describe('stress-ng parsers', () => {
  it.each(['hugepage', 'nohugepage'])('YAML and the brief table of the %s run agree', (advice) => {
    const yaml = parseStressNgYaml(fixture(`stress-ng-vm-${advice}.yaml`));
    const brief = parseStressNgMetricsBrief(fixture(`stress-ng-vm-${advice}.stderr.txt`));
    expect(yaml.version).toMatch(/^\d+\.\d+/);
    expect(yaml.metrics).toHaveLength(1);
    const [y] = yaml.metrics;
    const [b] = brief.metrics;
    expect(y.stressor).toBe('vm');
    expect(b.stressor).toBe('vm');
    expect(y.bogoOps).toBe(b.bogoOps);
    // The table rounds to two decimals.
    expect(y.bogoOpsPerSecond).toBeCloseTo(b.bogoOpsPerSecond, 1);
    expect(y.bogoOpsPerSecond).toBeCloseTo(y.bogoOps / y.wallSeconds, -1);
  });

  it('rejects output without metrics and malformed YAML', () => {
    expectProbeError(
      () => parseStressNgYaml('---\nsystem-info:\n  stress-ng-version: 0.15.06\n...\n'),
      'parse_error',
      /no metrics/,
    );
    expectProbeError(() => parseStressNgYaml('metrics: [unclosed'), 'parse_error', /YAML/);
    expectProbeError(() => parseStressNgYaml(''), 'parse_error');
    expectProbeError(
      () => parseStressNgYaml(fixture('stress-ng-vm-hugepage.yaml').replace('bogo-ops:', 'bogus:')),
      'parse_error',
      /bogo-ops/,
    );
    expectProbeError(() => parseStressNgMetricsBrief(fixture('stress-ng-bad-option.txt')), 'parse_error');
  });

  it('builds vm arguments with madvise advice', () => {
    expect(stressNgVmArgs({ seconds: 1, bytes: 1 << 20, madvise: 'hugepage' }).join(' ')).toBe(
      '--vm 1 --vm-bytes 1048576 --vm-method rand-set --vm-madvise hugepage',
    );
  });
});
