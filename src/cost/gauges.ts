import type { RecordedSample } from '../probe/types.js';
import type { TargetConfig } from '../config/schema.js';
import { effectivePricing } from './pricing.js';

/**
 * The `e2bbench_cost_*` input gauges of one target, from its pricing config (target labels are
 * added by the caller). Derived costs are computed from these by prometheus/rules/cost.rules.yml
 * and by deriveCosts(). Template and snapshot bytes appear only when configured: otherwise
 * storage.template_download measures them from the bucket and writes the same gauges.
 */
export function costGauges(target: TargetConfig): RecordedSample[] {
  const pricing = effectivePricing(target);
  if (!pricing) return [];
  const p = pricing.config;
  const out: RecordedSample[] = [];
  const add = (name: RecordedSample['name'], value: number | undefined, labels: Record<string, string> = {}) => {
    if (value !== undefined) out.push({ name, labels, value });
  };

  add('e2bbench_cost_pricing_model_info', 1, { pricing_model: p.pricing_model });
  if (pricing.model === 'instance') {
    const instanceType = p.instance_type ?? 'unknown';
    add('e2bbench_cost_instance_hourly_usd', p.hourly_usd, {
      instance_type: instanceType,
      pricing_model: p.pricing_model,
    });
    add('e2bbench_cost_nodes', p.nodes, { instance_type: instanceType });
    // Base unit bytes; the price is per GB-month with GB = 2^30 bytes, as for object storage.
    add('e2bbench_cost_local_disk_bytes', p.local_disk_gb * 2 ** 30);
    add('e2bbench_cost_local_disk_usd_per_gigabyte_month', p.local_disk_usd_per_gb_month);
    add('e2bbench_cost_target_utilization_ratio', p.target_utilization);
  } else {
    const list = pricing.list!;
    add('e2bbench_cost_vcpu_minute_usd', list.vcpuMinuteUsd);
    add('e2bbench_cost_gib_minute_usd', list.gibMinuteUsd);
    add('e2bbench_cost_sandbox_vcpu', list.sandboxVcpu, { template: target.template });
    add('e2bbench_cost_sandbox_memory_gib', list.sandboxMemoryGiB, { template: target.template });
  }
  add('e2bbench_cost_object_storage_usd_per_gigabyte_month', p.object_storage_usd_per_gb_month);
  add('e2bbench_cost_network_usd_per_gigabyte', p.network_usd_per_gb);
  add('e2bbench_cost_template_bytes', p.template_bytes);
  add('e2bbench_cost_snapshot_bytes', p.snapshot_bytes);
  return out;
}
