import { describe, expect, it } from 'vitest';
import { TargetSchema } from '../../src/config/schema.js';
import { costGauges, costInputsFromSamples, deriveCosts } from '../../src/cost/index.js';
import { CASES } from './cases.js';

function expectCloseRecord(actual: Record<string, number | undefined>, expected: Record<string, number>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [k, v] of Object.entries(expected)) expect(actual[k]).toBeCloseTo(v, 12);
}

describe('deriveCosts', () => {
  it.each(CASES.map((c) => [c.target.name, c] as const))(
    '%s: every derived cost matches the hand-computed value',
    (_, c) => {
      const d = deriveCosts(c.target, c.inputs)!;
      expect(d).toBeDefined();
      expectCloseRecord(d.monthlyUsd, c.expected.monthly);
      expect(d.totalMonthlyUsd).toBeCloseTo(c.expected.total, 10);
      if (c.expected.listPerMinute === undefined) expect(d.listUsdPerMinute).toBeUndefined();
      else expect(d.listUsdPerMinute).toBeCloseTo(c.expected.listPerMinute, 15);
      expectCloseRecord(d.sandboxHourUsd, c.expected.sandboxHour);
      expect(Object.keys(d.costPerCpuScoreUsd).sort()).toEqual(Object.keys(c.expected.perCpuScore).sort());
      for (const [basis, byThreads] of Object.entries(c.expected.perCpuScore))
        expectCloseRecord(d.costPerCpuScoreUsd[basis as 'sandbox_hour']!, byThreads);
      expectCloseRecord(d.costPer1000StartsUsd, c.expected.per1000Starts);
    },
  );

  it.each(CASES.map((c) => [c.target.name, c] as const))('%s: inputs picked from recorded samples', (_, c) => {
    expect(costInputsFromSamples(c.measurements)).toEqual(c.inputs);
  });

  it('has nothing to price on a self-hosted target without pricing', () => {
    const t = TargetSchema.parse({ name: 'x', cloud_provider: 'aws' });
    expect(deriveCosts(t, { maxSandboxes: 10 })).toBeUndefined();
    expect(costGauges(t)).toEqual([]);
  });

  it('uses measured template bytes only when none are configured', () => {
    const base = { name: 'x', cloud_provider: 'azure' as const };
    const pricing = { instance_type: 'D8s', hourly_usd: 1, object_storage_usd_per_gb_month: 0.5 };
    const measured = deriveCosts(TargetSchema.parse({ ...base, pricing }), { templateBytes: 2 * 2 ** 30 })!;
    expect(measured.monthlyUsd.templates).toBe(1); // 2 GiB × 0.5
    const configured = deriveCosts(TargetSchema.parse({ ...base, pricing: { ...pricing, template_bytes: 2 ** 30 } }), {
      templateBytes: 2 * 2 ** 30,
    })!;
    expect(configured.monthlyUsd.templates).toBe(0.5);
  });

  it('E2B rates and sandbox spec can be overridden in config', () => {
    const t = TargetSchema.parse({
      name: 'e2b',
      cloud_provider: 'e2b',
      pricing: { vcpu_minute_usd: 0.001, gib_minute_usd: 0.0005, sandbox_vcpu: 4, sandbox_memory_mib: 2048 },
    });
    const d = deriveCosts(t)!;
    expect(d.listUsdPerMinute).toBeCloseTo(0.005, 15); // 4 × 0.001 + 2 × 0.0005
    expect(d.sandboxHourUsd).toEqual({ list_price: d.listUsdPerMinute! * 60 });
  });

  it('never prices a sandbox-hour of work from a capacity our own cap set', () => {
    const t = CASES[0].target;
    const capped = deriveCosts(t, { ...CASES[0].inputs, capacityCapped: true })!;
    expect(Object.keys(capped.sandboxHourUsd)).toEqual(['capped_density']);
    expect(capped.costPerCpuScoreUsd.sandbox_hour).toBeUndefined();
    expect(capped.costPer1000StartsUsd).toEqual({});
    // the same inputs from a run the platform stopped price it
    const real = deriveCosts(t, CASES[0].inputs)!;
    expect(real.sandboxHourUsd.capped_density).toBeUndefined();
    expect(capped.sandboxHourUsd.capped_density).toBe(real.sandboxHourUsd.measured_density);
  });

  it('leaves a gap, not a zero or infinity, for zero capacity or zero CPU score', () => {
    const t = TargetSchema.parse({ name: 'x', cloud_provider: 'aws', pricing: { instance_type: 'a', hourly_usd: 1 } });
    const d = deriveCosts(t, { maxSandboxes: 0, cpuEventsPerSecond: { '4': 0 } })!;
    expect(d.sandboxHourUsd).toEqual({});
    expect(d.costPerCpuScoreUsd).toEqual({});
    expect(d.costPer1000StartsUsd).toEqual({});
  });
});

describe('costGauges', () => {
  it('writes the instance pricing of a self-hosted target', () => {
    const g = costGauges(CASES[0].target);
    const byName = Object.fromEntries(g.map((s) => [s.name, s]));
    expect(byName.e2bbench_cost_instance_hourly_usd).toEqual({
      name: 'e2bbench_cost_instance_hourly_usd',
      labels: { instance_type: 'm6i.4xlarge', pricing_model: 'on_demand' },
      value: 0.768,
    });
    expect(byName.e2bbench_cost_nodes.value).toBe(3);
    expect(byName.e2bbench_cost_template_bytes.value).toBe(10 * 2 ** 30);
    expect(byName.e2bbench_cost_vcpu_minute_usd).toBeUndefined();
  });

  it('writes E2B list rates and the sandbox spec for an e2b target without a pricing block', () => {
    const g = costGauges(CASES[1].target);
    const v = (n: string) => g.find((s) => s.name === n)?.value;
    expect(v('e2bbench_cost_vcpu_minute_usd')).toBe(0.00084);
    expect(v('e2bbench_cost_gib_minute_usd')).toBe(0.00027);
    expect(g.find((s) => s.name === 'e2bbench_cost_sandbox_memory_gib')).toEqual({
      name: 'e2bbench_cost_sandbox_memory_gib',
      labels: { template: 'base' },
      value: 0.5,
    });
    expect(v('e2bbench_cost_instance_hourly_usd')).toBeUndefined();
    expect(v('e2bbench_cost_template_bytes')).toBeUndefined(); // left to storage.template_download
  });
});
