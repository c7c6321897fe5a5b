import { bars, Board, q, sel, T, table, timeseries } from '../build.js';

const SANDBOX_HOUR = 'target_basis:e2bbench_cost_sandbox_hour_usd:ratio';

/** Configured prices, derived monthly costs (cost.rules.yml) and cost per unit of performance. */
export function cost(): Board {
  return new Board({
    uid: 'e2bbench-cost',
    file: 'cost',
    title: 'e2b-bench / Cost & cost-per-performance',
    description:
      'Prices from each target’s pricing config, the monthly cost they add up to, and what a sandbox-hour, a unit of CPU score and 1,000 starts cost.',
    time: 'now-7d',
  })
    .row('Cost per performance')
    .add(
      bars({
        title: 'Price of a sandbox-hour',
        description:
          'measured_density: monthly cost over the sandboxes capacity.density fitted at once before the platform refused one; target_utilization: at the configured share of that; capped_density: the run stopped at the exporter cap or budget, so this is an upper bound, never compared; list_price: E2B cloud.',
        unit: 'currencyUSD',
        min: 0,
        decimals: 4,
        queries: [q(sel(SANDBOX_HOUR), '{{target}} {{basis}}')],
      }),
      8,
    )
    .add(
      bars({
        title: 'Sandbox-hour cost per CPU score',
        description:
          'Price of a sandbox-hour (target utilization self-hosted, list price on E2B cloud) ÷ multi-thread sysbench events/s in the sandbox (USD per event/s): the same definition on every target, lower is better.',
        unit: 'currencyUSD',
        min: 0,
        decimals: 6,
        queries: [
          q(
            sel('target_basis_threads:e2bbench_cost_per_cpu_score_usd:ratio', T, 'basis="sandbox_hour"'),
            '{{target}} ×{{threads}}',
          ),
        ],
      }),
      8,
    )
    .add(
      bars({
        title: 'Instance-month cost per host CPU score',
        description:
          'The seed definition: one instance’s monthly cost (hourly × 730) ÷ the host’s multi-thread sysbench events/s. Self-hosted only.',
        unit: 'currencyUSD',
        min: 0,
        decimals: 4,
        queries: [
          q(
            sel('target_basis_threads:e2bbench_cost_per_cpu_score_usd:ratio', T, 'basis="host_month"'),
            '{{target}} ×{{threads}}',
          ),
        ],
      }),
      8,
    )
    .add(
      bars({
        title: 'Cost of 1,000 starts',
        description: 'Sandbox time spent starting (start p50 × 1,000) at the price of a sandbox-hour.',
        unit: 'currencyUSD',
        min: 0,
        decimals: 4,
        queries: [
          q(
            sel('target_start_type:e2bbench_cost_per_1000_starts_usd:ratio', T, 'start_type=~"$start_type"'),
            '{{target}} {{start_type}}',
          ),
        ],
      }),
      8,
    )
    .add(
      timeseries({
        title: 'Price of a sandbox-hour over time',
        unit: 'currencyUSD',
        min: 0,
        decimals: 4,
        queries: [q(sel(SANDBOX_HOUR), '{{target}} {{basis}}')],
      }),
    )
    .add(
      timeseries({
        title: 'What benchmarking costs per day',
        description:
          'Sandbox-hours spent by the probes over the last day, at the target-utilization (self-hosted) or list (E2B cloud) price of a sandbox-hour.',
        unit: 'currencyUSD',
        min: 0,
        queries: [
          q(
            `sum by (target, cloud_provider, cloud_region) (increase(${sel('e2bbench_sandbox_lifetime_seconds_total')}[1d])) / 3600 * on (target, cloud_provider, cloud_region) max by (target, cloud_provider, cloud_region) (${sel(SANDBOX_HOUR, T, 'basis=~"target_utilization|list_price"')})`,
            '{{target}}',
          ),
        ],
      }),
    )
    .row('Monthly cost')
    .add(
      timeseries({
        title: 'Monthly cost by component',
        description:
          'instance (hourly × 730 × nodes), local disk, templates and snapshots in object storage, E2B list price.',
        unit: 'currencyUSD',
        min: 0,
        stack: true,
        queries: [q(sel('target_component:e2bbench_cost_monthly_usd:sum'), '{{target}} {{component}}')],
      }),
      16,
    )
    .add(
      bars({
        title: 'Monthly cost',
        unit: 'currencyUSD',
        min: 0,
        queries: [q(sel('target:e2bbench_cost_monthly_usd:sum'), '{{target}}')],
      }),
      8,
    )
    .row('Price inputs (from configuration)')
    .add(
      table({
        title: 'Self-hosted pricing',
        queries: [
          q(sel('e2bbench_cost_instance_hourly_usd')),
          q(`max by (target, instance_type) (${sel('e2bbench_cost_nodes')})`),
          q(sel('e2bbench_cost_target_utilization_ratio')),
          q(`${sel('e2bbench_cost_local_disk_bytes')} / 2^30`),
          q(sel('e2bbench_cost_local_disk_usd_per_gigabyte_month')),
          q(sel('e2bbench_cost_object_storage_usd_per_gigabyte_month')),
          q(sel('e2bbench_cost_network_usd_per_gigabyte')),
        ],
        columns: [
          'USD / hour',
          'Nodes',
          'Target utilization',
          'Local disk GB',
          'USD / GB-month disk',
          'USD / GB-month object',
          'USD / GB egress',
        ],
        hide: ['cloud_provider', 'cloud_region'],
        sortBy: 'target',
        overrides: [
          {
            matcher: { id: 'byName', options: 'Target utilization' },
            properties: [{ id: 'unit', value: 'percentunit' }],
          },
        ],
      }),
      24,
      6,
    )
    .add(
      table({
        title: 'Stored bytes priced',
        queries: [q(sel('e2bbench_cost_template_bytes')), q(sel('e2bbench_cost_snapshot_bytes'))],
        columns: ['Templates', 'Snapshots'],
        hide: ['cloud_provider', 'cloud_region'],
        overrides: ['Templates', 'Snapshots'].map((name) => ({
          matcher: { id: 'byName' as const, options: name },
          properties: [{ id: 'unit', value: 'bytes' }],
        })),
      }),
      8,
      6,
    )
    .add(
      table({
        title: 'E2B cloud list prices',
        queries: [
          q(sel('e2bbench_cost_vcpu_minute_usd')),
          q(sel('e2bbench_cost_gib_minute_usd')),
          q(sel('target:e2bbench_cost_sandbox_list_usd_per_minute:sum')),
        ],
        columns: ['USD / vCPU-minute', 'USD / GiB-minute', 'Benchmark sandbox USD / minute'],
        hide: ['cloud_provider', 'cloud_region'],
      }),
      8,
      6,
    )
    .add(
      table({
        title: 'Benchmark sandbox spec (list price)',
        queries: [q(sel('e2bbench_cost_sandbox_vcpu')), q(sel('e2bbench_cost_sandbox_memory_gib'))],
        columns: ['vCPU', 'Memory GiB'],
        hide: ['cloud_provider', 'cloud_region'],
      }),
      8,
      6,
    )
    .add(
      table({
        title: 'Pricing model',
        queries: [q(sel('e2bbench_cost_pricing_model_info'))],
        columns: ['Info'],
        hide: ['Info', 'cloud_provider', 'cloud_region'],
      }),
      24,
      4,
    );
}
