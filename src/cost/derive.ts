import type { TargetConfig } from '../config/schema.js';
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
} from './model.js';
import { effectivePricing, type CostModelKind } from './pricing.js';

/** What the cost model needs from measurements (all optional: missing ones leave gaps, not zeros). */
export interface CostInputs {
  /** capacity.density: sandboxes running at once at the peak (whole target). */
  maxSandboxes?: number;
  /**
   * capacity.density stopped at the exporter's own cap or budget, not at a platform limit: the
   * peak is a lower bound of the capacity, so its cost per sandbox-hour is an upper bound.
   */
  capacityCapped?: boolean;
  /** sandbox.cpu multi-thread events/s, by the `threads` label (single-thread runs excluded). */
  cpuEventsPerSecond?: Record<string, number>;
  /** host.cpu multi-thread events/s, by `threads` (the host multi-core score). */
  hostCpuEventsPerSecond?: Record<string, number>;
  /** Start time p50 of the last run, by start_type (cold, warm, restore). */
  startSeconds?: Record<string, number>;
  /** Measured from the bucket; used only where the pricing config has no value. */
  templateBytes?: number;
  snapshotBytes?: number;
}

export type CostComponent = 'instance' | 'local_disk' | 'templates' | 'snapshots' | 'sandbox_list';
export type SandboxHourBasis = 'measured_density' | 'target_utilization' | 'capped_density' | 'list_price';
/**
 * sandbox_hour: price of a sandbox-hour ÷ per-sandbox multi-thread CPU score (every target alike).
 * host_month: one instance's monthly cost ÷ host multi-thread CPU score (self-hosted only).
 */
export type CpuScoreBasis = 'sandbox_hour' | 'host_month';

export interface DerivedCosts {
  model: CostModelKind;
  /** Monthly cost by component; local_disk, templates and snapshots are the storage breakdown. */
  monthlyUsd: Partial<Record<CostComponent, number>>;
  totalMonthlyUsd?: number;
  /** E2B list price of the benchmark sandbox per minute. */
  listUsdPerMinute?: number;
  sandboxHourUsd: Partial<Record<SandboxHourBasis, number>>;
  /** Cost per unit of multi-thread CPU score, by basis, then by threads. */
  costPerCpuScoreUsd: Partial<Record<CpuScoreBasis, Record<string, number>>>;
  /** By start_type, at the target-utilization price (self-hosted) or the list price (E2B). */
  costPer1000StartsUsd: Record<string, number>;
}

const positive = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && v > 0;

/**
 * Every derived cost of a target, as the report and the CLI show them. Mirrors
 * prometheus/rules/cost.rules.yml rule by rule. Undefined when the target has nothing to price.
 */
export function deriveCosts(target: TargetConfig, inputs: CostInputs = {}): DerivedCosts | undefined {
  const pricing = effectivePricing(target);
  if (!pricing) return undefined;
  const p = pricing.config;
  const monthly: DerivedCosts['monthlyUsd'] = {};
  let listUsdPerMinute: number | undefined;

  if (pricing.model === 'instance') {
    if (p.hourly_usd !== undefined) monthly.instance = instanceMonthlyUsd(p.hourly_usd, p.nodes);
    monthly.local_disk = localDiskMonthlyUsd(p.local_disk_gb, p.local_disk_usd_per_gb_month, p.nodes);
  } else {
    const l = pricing.list!;
    listUsdPerMinute = listPriceUsdPerMinute(l.sandboxVcpu, l.sandboxMemoryGiB, l.vcpuMinuteUsd, l.gibMinuteUsd);
    monthly.sandbox_list = listPriceMonthlyUsd(listUsdPerMinute);
  }
  const templateBytes = p.template_bytes ?? inputs.templateBytes;
  const snapshotBytes = p.snapshot_bytes ?? inputs.snapshotBytes;
  if (templateBytes !== undefined)
    monthly.templates = objectStorageMonthlyUsd(templateBytes, p.object_storage_usd_per_gb_month);
  if (snapshotBytes !== undefined)
    monthly.snapshots = objectStorageMonthlyUsd(snapshotBytes, p.object_storage_usd_per_gb_month);

  const parts = Object.values(monthly);
  const total = parts.length > 0 ? parts.reduce((a, b) => a + b, 0) : undefined;

  const hour: DerivedCosts['sandboxHourUsd'] = {};
  if (pricing.model === 'list_price') {
    hour.list_price = listUsdPerMinute! * 60;
  } else if (total !== undefined && positive(inputs.maxSandboxes)) {
    // A peak set by our own cap is not the platform's capacity: kept apart, out of comparisons.
    if (inputs.capacityCapped) hour.capped_density = sandboxHourUsd(total, inputs.maxSandboxes);
    else {
      hour.measured_density = sandboxHourUsd(total, inputs.maxSandboxes);
      hour.target_utilization = sandboxHourUsdAtUtilization(total, inputs.maxSandboxes, p.target_utilization);
    }
  }
  // The price a sandbox-hour of work costs: what cost per CPU score and per 1,000 starts divide.
  const workHour = pricing.model === 'list_price' ? hour.list_price : hour.target_utilization;

  const perScore: DerivedCosts['costPerCpuScoreUsd'] = {};
  const perScoreOf = (
    basis: CpuScoreBasis,
    usd: number | undefined,
    scores: Record<string, number> | undefined,
  ): void => {
    if (usd === undefined) return;
    for (const [threads, eps] of Object.entries(scores ?? {})) {
      if (threads !== '1' && positive(eps)) (perScore[basis] ??= {})[threads] = costPerCpuScore(usd, eps);
    }
  };
  perScoreOf('sandbox_hour', workHour, inputs.cpuEventsPerSecond);
  if (pricing.model === 'instance' && p.hourly_usd !== undefined)
    perScoreOf('host_month', instanceMonthlyUsd(p.hourly_usd, 1), inputs.hostCpuEventsPerSecond);

  const perStarts: Record<string, number> = {};
  if (workHour !== undefined) {
    for (const [startType, seconds] of Object.entries(inputs.startSeconds ?? {})) {
      perStarts[startType] = costPer1000Starts(seconds, workHour);
    }
  }

  return {
    model: pricing.model,
    monthlyUsd: monthly,
    totalMonthlyUsd: total,
    listUsdPerMinute,
    sandboxHourUsd: hour,
    costPerCpuScoreUsd: perScore,
    costPer1000StartsUsd: perStarts,
  };
}
