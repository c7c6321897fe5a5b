import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../exporters/prometheus/registry.js';
import { sampleValue } from '../helpers/fake-probes.js';

const TL = { target: 't', cloud_provider: 'local', cloud_region: 'r' };

describe('MetricsRegistry', () => {
  it('counters keep their _total name in the text format after an OpenMetrics render', async () => {
    const m = new MetricsRegistry();
    m.inc('e2bbench_probe_runs_total', { ...TL, probe: 'p', trigger: 'schedule' });
    const before = (await m.render(false)).body;
    expect(before).toContain('# TYPE e2bbench_probe_runs_total counter');
    const om = (await m.render(true)).body;
    expect(om).toContain('# TYPE e2bbench_probe_runs counter');
    expect(om).toMatch(/^e2bbench_probe_runs_total\{/m);
    const after = (await m.render(false)).body;
    expect(after).toBe(before);
    const r = await execa('promtool', ['check', 'metrics'], { input: after, reject: false });
    expect(r.stdout + r.stderr).toBe('');
    // And OpenMetrics again is unchanged too (no "_total_total").
    expect((await m.render(true)).body).toBe(om);
  });

  it('rejects missing and unexpected labels', () => {
    const m = new MetricsRegistry();
    expect(() => m.set('e2bbench_probe_success', { ...TL }, 1)).toThrow(/missing label probe/);
    expect(() => m.set('e2bbench_probe_success', { ...TL, probe: 'p', sandbox_id: 'x' }, 1)).toThrow(
      /unexpected label sandbox_id/,
    );
  });

  it('accepts optional labels either way and needs a target or a host', () => {
    const m = new MetricsRegistry();
    const start = { ...TL, template: 'base', start_type: 'restore' };
    m.observe('e2bbench_sandbox_start_seconds', start, 0.1);
    m.observe('e2bbench_sandbox_start_seconds', { ...start, pause_kind: 'memory' }, 0.1);
    expect(m.seriesOf('e2bbench_sandbox_start_seconds')).toEqual([start, { ...start, pause_kind: 'memory' }]);
    const { target: _t, ...noSubject } = TL;
    expect(() => m.set('e2bbench_probe_success', { ...noSubject, probe: 'p' }, 1)).toThrow(
      /needs a target or a host label/,
    );
  });

  it('a series written again by another owner belongs to the new owner', () => {
    const m = new MetricsRegistry();
    m.set('e2bbench_probe_success', { ...TL, probe: 'p' }, 1, 'a');
    m.set('e2bbench_probe_success', { ...TL, probe: 'p' }, 0, 'b');
    expect(m.removeOwner('a')).toBe(0);
    expect(m.removeOwner('b')).toBe(1);
  });

  it('removeOwner and removeMatching drop exactly the series they name', async () => {
    const m = new MetricsRegistry();
    m.set('e2bbench_probe_success', { ...TL, probe: 'p' }, 1, 'p/t');
    m.set('e2bbench_probe_success', { ...TL, probe: 'q' }, 1, 'q/t');
    m.set('e2bbench_probe_success', { ...TL, target: 'u', probe: 'p' }, 1, 'p/u');
    expect(m.removeOwner('p/t')).toBe(1);
    let body = (await m.render(false)).body;
    expect(sampleValue(body, 'e2bbench_probe_success', { target: 't', probe: 'p' })).toBeUndefined();
    expect(sampleValue(body, 'e2bbench_probe_success', { target: 't', probe: 'q' })).toBe(1);
    expect(m.removeMatching({ target: 'u' })).toBe(1);
    body = (await m.render(false)).body;
    expect(body).not.toContain('target="u"');
    expect(m.seriesOf('e2bbench_probe_success')).toEqual([{ ...TL, probe: 'q' }]);
  });

  it('uses configured histogram buckets', async () => {
    const m = new MetricsRegistry([0.1, 1]);
    m.observe('e2bbench_probe_run_seconds', { ...TL, probe: 'p' }, 0.5, 'a'.repeat(32));
    const body = (await m.render(false)).body;
    const les = [...body.matchAll(/e2bbench_probe_run_seconds_bucket\{le="([^"]+)"/g)].map((x) => x[1]);
    expect(les).toEqual(['0.1', '1', '+Inf']);
  });
});
