import type { DerivedCosts } from './derive.js';

export interface CostSeries {
  /** Recording rule name in prometheus/rules/cost.rules.yml. */
  name: string;
  /** Labels besides the target labels. */
  labels: Record<string, string>;
  value: number;
}

/** Derived costs under the names and labels the recording rules give them (for reports and checks). */
export function derivedCostSeries(d: DerivedCosts): CostSeries[] {
  const out: CostSeries[] = [];
  if (d.listUsdPerMinute !== undefined) {
    out.push({ name: 'target:e2bbench_cost_sandbox_list_usd_per_minute:sum', labels: {}, value: d.listUsdPerMinute });
  }
  for (const [component, value] of Object.entries(d.monthlyUsd)) {
    out.push({ name: 'target_component:e2bbench_cost_monthly_usd:sum', labels: { component }, value });
  }
  if (d.totalMonthlyUsd !== undefined) {
    out.push({ name: 'target:e2bbench_cost_monthly_usd:sum', labels: {}, value: d.totalMonthlyUsd });
  }
  for (const [basis, value] of Object.entries(d.sandboxHourUsd)) {
    out.push({ name: 'target_basis:e2bbench_cost_sandbox_hour_usd:ratio', labels: { basis }, value });
  }
  for (const [basis, byThreads] of Object.entries(d.costPerCpuScoreUsd)) {
    for (const [threads, value] of Object.entries(byThreads)) {
      out.push({
        name: 'target_basis_threads:e2bbench_cost_per_cpu_score_usd:ratio',
        labels: { basis, threads },
        value,
      });
    }
  }
  for (const [start_type, value] of Object.entries(d.costPer1000StartsUsd)) {
    out.push({ name: 'target_start_type:e2bbench_cost_per_1000_starts_usd:ratio', labels: { start_type }, value });
  }
  return out;
}
