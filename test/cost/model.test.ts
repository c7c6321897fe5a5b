import { describe, expect, it } from 'vitest';
import {
  costPer1000Starts,
  costPerCpuScore,
  instanceMonthlyUsd,
  listPriceMonthlyUsd,
  listPriceUsdPerMinute,
  localDiskMonthlyUsd,
  objectStorageMonthlyUsd,
  sandboxHourUsd,
  sandboxHourUsdAtUtilization,
} from '../../src/cost/model.js';
import { E2B_LIST_RATES } from '../../src/cost/pricing.js';

/** Relative comparison: hand-computed decimals vs float64 arithmetic. */
function close(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.abs(expected) * 1e-12 + 1e-15);
}

describe('cost model, values worked out by hand', () => {
  it.each([
    // vcpu, GiB, vCPU rate, GiB rate, USD per minute
    { vcpu: 2, gib: 0.5, v: 0.00084, m: 0.00027, want: 0.001815 }, // E2B default sandbox: 0.00168 + 0.000135
    { vcpu: 8, gib: 8, v: 0.00084, m: 0.00027, want: 0.00888 }, // 0.00672 + 0.00216
    { vcpu: 1, gib: 0.25, v: 0.001, m: 0.0004, want: 0.0011 },
  ])('list price of $vcpu vCPU / $gib GiB = $want USD/min', ({ vcpu, gib, v, m, want }) => {
    close(listPriceUsdPerMinute(vcpu, gib, v, m), want);
  });

  it('uses the published E2B rates for the 2 vCPU / 512 MiB sandbox: 2 × 0.00084 + 0.5 × 0.00027', () => {
    close(
      listPriceUsdPerMinute(2, 512 / 1024, E2B_LIST_RATES.vcpu_minute_usd, E2B_LIST_RATES.gib_minute_usd),
      0.001815,
    );
    close(listPriceMonthlyUsd(0.001815), 79.497); // × 60 × 730
  });

  it.each([
    { hourly: 0.768, nodes: 3, want: 1681.92 },
    { hourly: 1.5, nodes: 10, want: 10950 },
    { hourly: 0, nodes: 4, want: 0 },
  ])('instance monthly: $hourly/h × 730 × $nodes = $want', ({ hourly, nodes, want }) => {
    close(instanceMonthlyUsd(hourly, nodes), want);
  });

  it.each([
    { gb: 500, price: 0.08, nodes: 3, want: 120 },
    { gb: 1900, price: 0.1, nodes: 2, want: 380 },
  ])('local disk: $gb GB × $price × $nodes nodes = $want', ({ gb, price, nodes, want }) => {
    close(localDiskMonthlyUsd(gb, price, nodes), want);
  });

  it.each([
    { bytes: 10 * 2 ** 30, price: 0.023, want: 0.23 },
    { bytes: 2 ** 29, price: 0.02, want: 0.01 }, // half a GiB
    { bytes: 1e9, price: 1, want: 0.9313225746154785 }, // 10^9 / 2^30: a decimal GB is less than a billing GB
  ])('object storage: $bytes bytes × $price = $want', ({ bytes, price, want }) => {
    close(objectStorageMonthlyUsd(bytes, price), want);
  });

  it.each([
    { monthly: 7300, max: 100, util: 1, density: 0.1, atUtil: 0.1 },
    { monthly: 7300, max: 100, util: 0.5, density: 0.1, atUtil: 0.2 },
    { monthly: 1804.45, max: 300, util: 0.6, density: 0.00823949771689498, atUtil: 0.0137324961948249 },
  ])(
    'sandbox-hour: $monthly/month over $max sandboxes (utilization $util)',
    ({ monthly, max, util, density, atUtil }) => {
      close(sandboxHourUsd(monthly, max), density);
      // hand values above have 15 significant digits
      expect(sandboxHourUsdAtUtilization(monthly, max, util)).toBeCloseTo(atUtil, 14);
    },
  );

  it.each([
    { usd: 560.64, eps: 9000, want: 0.0622933333333333 }, // one instance-month / host score
    { usd: 0.1089, eps: 1500, want: 0.0000726 }, // one sandbox-hour / sandbox score
  ])('cost per CPU score: $usd / $eps events/s = $want', ({ usd, eps, want }) => {
    expect(costPerCpuScore(usd, eps)).toBeCloseTo(want, 14);
  });

  it.each([
    { seconds: 0.4, hour: 0.1089, want: 0.0121 }, // 1000 × 0.4 × 0.1089 / 3600
    { seconds: 3.6, hour: 1, want: 1 }, // 1000 starts × 3.6 s = 1 sandbox-hour
    { seconds: 2, hour: 0.0137324961948249, want: 0.0076291645526805 },
  ])('1,000 starts of $seconds s at $hour USD/h = $want', ({ seconds, hour, want }) => {
    expect(costPer1000Starts(seconds, hour)).toBeCloseTo(want, 14);
  });
});
