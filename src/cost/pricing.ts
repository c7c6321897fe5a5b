import { PricingSchema, type PricingConfig, type TargetConfig } from '../config/schema.js';

/**
 * E2B cloud list rates, USD (public pricing: $0.000014 per vCPU-second, $0.0000045 per GiB-second).
 * Used for `cloud_provider: e2b` targets unless the config overrides them; prices change, so check.
 */
export const E2B_LIST_RATES = { vcpu_minute_usd: 0.00084, gib_minute_usd: 0.00027 } as const;

/** E2B's default sandbox: 2 vCPU, 512 MiB. */
export const E2B_DEFAULT_SANDBOX = { vcpu: 2, memory_mib: 512 } as const;

/**
 * `instance`: self-hosted, priced by the nodes that run it (aws, azure, gcp, local).
 * `list_price`: E2B cloud, priced per sandbox by vCPU-minute and GiB-minute.
 */
export type CostModelKind = 'instance' | 'list_price';

export interface ListPrice {
  vcpuMinuteUsd: number;
  gibMinuteUsd: number;
  sandboxVcpu: number;
  sandboxMemoryGiB: number;
}

export interface EffectivePricing {
  model: CostModelKind;
  config: PricingConfig;
  /** Present for the list_price model only. */
  list?: ListPrice;
}

/**
 * The pricing that applies to a target: its config, with E2B list rates and sandbox spec filled in
 * for `cloud_provider: e2b` (which needs no pricing block at all). Undefined: nothing to price.
 */
export function effectivePricing(target: TargetConfig): EffectivePricing | undefined {
  if (target.cloud_provider === 'e2b') {
    const config = target.pricing ?? PricingSchema.parse({});
    return {
      model: 'list_price',
      config,
      list: {
        vcpuMinuteUsd: config.vcpu_minute_usd ?? E2B_LIST_RATES.vcpu_minute_usd,
        gibMinuteUsd: config.gib_minute_usd ?? E2B_LIST_RATES.gib_minute_usd,
        sandboxVcpu: config.sandbox_vcpu ?? E2B_DEFAULT_SANDBOX.vcpu,
        sandboxMemoryGiB: (config.sandbox_memory_mib ?? E2B_DEFAULT_SANDBOX.memory_mib) / 1024,
      },
    };
  }
  if (!target.pricing) return undefined;
  return { model: 'instance', config: target.pricing };
}
