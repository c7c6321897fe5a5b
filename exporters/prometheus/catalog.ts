/**
 * Every metric family the exporter exposes. Names are the contract with dashboards and rules
 * add families, never rename. Probe metrics carry TARGET_LABELS first; `labels` lists
 * the family-specific ones.
 */
export type MetricKind = 'gauge' | 'histogram' | 'counter';

export interface MetricDef {
  kind: MetricKind;
  help: string;
  labels: readonly string[];
  /** false for exporter-level families that have no target labels. */
  perTarget?: boolean;
  /** Labels (among `labels`) that only some series carry, e.g. pause_kind on restore series only. */
  optional?: readonly string[];
  /** Histograms whose quantiles alerts watch: 10%-apart buckets (START_BUCKETS) instead of the default. */
  fineBuckets?: boolean;
}

/**
 * A probe series names a target, or the machine the exporter runs on (`host`, host probes), or both
 * when a target declared `host: self`: one of `target` / `host` may be absent, never both.
 */
export const TARGET_LABELS = ['target', 'cloud_provider', 'cloud_region', 'host'] as const;
export const SUBJECT_LABELS = ['target', 'host'] as const;

const g = (help: string, labels: readonly string[] = []): MetricDef => ({ kind: 'gauge', help, labels });
const h = (help: string, labels: readonly string[] = []): MetricDef => ({ kind: 'histogram', help, labels });
const c = (help: string, labels: readonly string[] = []): MetricDef => ({ kind: 'counter', help, labels });
const self = (def: MetricDef): MetricDef => ({ ...def, perTarget: false });
/** `pause_kind` is on restore series only: restore times compare only within one pause kind. */
const fine = (def: MetricDef): MetricDef => ({ ...def, fineBuckets: true });
const withPauseKind = (def: MetricDef): MetricDef => ({
  ...def,
  labels: [...def.labels, 'pause_kind'],
  optional: ['pause_kind'],
});

export const CATALOG = {
  // probe bookkeeping
  e2bbench_probe_success: g('1 if the last run of the probe succeeded, else 0.', ['probe']),
  e2bbench_probe_duration_seconds: g('Wall time of the last run of the probe.', ['probe']),
  e2bbench_probe_last_run_timestamp_seconds: g('Unix time the last run of the probe ended.', ['probe']),
  e2bbench_probe_interval_seconds: g('Configured interval of the probe (alert rules use it to spot stale probes).', [
    'probe',
  ]),
  e2bbench_probe_runs_total: c('Probe runs, by trigger.', ['probe', 'trigger']),
  e2bbench_probe_failures_total: c('Failed probe runs, by bounded reason.', ['probe', 'reason']),
  e2bbench_probe_skipped_total: c('Probe runs skipped, by reason.', ['probe', 'reason']),
  e2bbench_probe_run_seconds: h('Probe run wall time.', ['probe']),

  // sandbox lifecycle
  e2bbench_sandbox_start_seconds: fine(
    withPauseKind(h('Sandbox start: create request until the first command has exited 0.', ['template', 'start_type'])),
  ),
  e2bbench_sandbox_phase_seconds: fine(
    withPauseKind(h('Sandbox lifecycle phase duration.', ['template', 'start_type', 'phase'])),
  ),
  e2bbench_sandbox_operation_seconds: h('Operation against a running sandbox.', ['template', 'operation']),
  e2bbench_sandbox_start_success_ratio: withPauseKind(
    g('Share of start samples in the last run that succeeded.', ['template', 'start_type']),
  ),
  e2bbench_sandbox_start_last_seconds: withPauseKind(
    g('Start time statistic of the last run: n, p50, p95, their 95% bootstrap interval, min, max...', [
      'template',
      'start_type',
      'statistic',
    ]),
  ),
  e2bbench_cold_start_strategy_info: g('How the cache was made cold before cold start samples; value is 1.', [
    'template',
    'strategy',
  ]),
  e2bbench_sandbox_pause_seconds_per_gib: g('Pause (snapshot) time of the last run divided by sandbox memory in GiB.', [
    'template',
    'pause_kind',
  ]),
  e2bbench_burst_seconds: g('Burst start: wall time from the first request to the first and last ready sandbox.', [
    'template',
    'mode',
    'statistic',
  ]),
  e2bbench_burst_success_ratio: g('Burst start: share of sandboxes that became ready.', ['template', 'mode']),
  e2bbench_template_build_seconds: h(
    "Template build through the target's build API: build request until the template is ready (upload, steps, layer). `template` is the template built from.",
    ['template'],
  ),
  e2bbench_sandboxes_in_flight: g('Sandboxes created by the exporter and not yet killed.'),
  e2bbench_sandboxes_created_total: c('Sandboxes created by the exporter.', ['probe']),
  e2bbench_sandboxes_leaked_total: c('Sandboxes of ours the reaper had to kill.'),
  e2bbench_sandbox_lifetime_seconds_total: c('Sandbox-seconds spent by benchmarking (what probing costs).', ['probe']),
  e2bbench_budget_used_sandbox_seconds: g(
    'Sandbox time used in the current budget hour (the cap is in sandbox-minutes).',
  ),

  // capacity
  e2bbench_capacity_max_sandboxes: g('Sandboxes running at once before the first failure or the cap.', ['template']),
  e2bbench_capacity_sandboxes_per_node: g('Sandboxes per node at the capacity peak.', ['template', 'node']),
  e2bbench_capacity_balance_ratio: g(
    'Node balance at the capacity peak: 1 - coefficient of variation; only from real placement on two or more nodes.',
    ['template'],
  ),
  e2bbench_capacity_limit_reached: g(
    '1 if the capacity run stopped because the platform refused a sandbox; 0 if on the exporter cap or budget (the peak is then no capacity).',
    ['template', 'reason'],
  ),

  // cpu / memory / disk / network, scope = sandbox | host
  e2bbench_cpu_events_per_second: g('sysbench cpu events per second.', ['scope', 'threads']),
  e2bbench_cpu_event_latency_seconds: g('sysbench cpu event latency percentile.', ['scope', 'threads', 'percentile']),
  e2bbench_cpu_virtualization_overhead_ratio: g('1 - sandbox score / host score, same target, same threads.', [
    'threads',
  ]),
  e2bbench_cpu_frequency_cv_ratio: g('Coefficient of variation of CPU MHz samples.', ['scope']),
  e2bbench_cpu_steal_ratio: g('Share of CPU time stolen by the hypervisor during the run.', ['scope']),
  e2bbench_memory_bandwidth_bytes_per_second: g('Memory bandwidth (sysbench memory).', ['scope', 'operation']),
  e2bbench_memory_latency_seconds: g(
    'Load-to-use latency of dependent random loads over a working set larger than the last-level cache (pointer chase).',
    ['scope'],
  ),
  e2bbench_memory_alloc_seconds: g('Time to allocate 1 GiB and write every byte (the seed definition).', ['scope']),
  e2bbench_memory_alloc_seconds_per_gib: g(
    'Time to allocate alloc_bytes and write every byte, per GiB: where 1 GiB does not fit the sandbox.',
    ['scope', 'alloc_bytes'],
  ),
  e2bbench_disk_iops: g('fio IOPS.', ['scope', 'pattern', 'iodepth', 'direct']),
  e2bbench_disk_throughput_bytes_per_second: g('fio throughput.', ['scope', 'pattern', 'iodepth', 'direct']),
  e2bbench_disk_latency_seconds: g('fio completion latency percentile.', [
    'scope',
    'pattern',
    'iodepth',
    'direct',
    'percentile',
  ]),
  e2bbench_network_bandwidth_bytes_per_second: g(
    'Network bandwidth: iperf3, or an HTTP download of a configured URL.',
    ['scope', 'direction', 'endpoint'],
  ),
  e2bbench_network_packets_per_second: g('iperf3 UDP small-datagram packets per second.', ['scope', 'endpoint']),
  e2bbench_network_rtt_seconds: g('Round-trip time to an endpoint (median of the run).', ['scope', 'endpoint']),
  e2bbench_network_stability_cv_ratio: g('Coefficient of variation of repeated network measurements.', [
    'scope',
    'endpoint',
  ]),
  e2bbench_network_retransmits: g('TCP retransmits during the iperf3 run.', ['scope', 'direction', 'endpoint']),
  e2bbench_hugepages_enabled: g('1 if huge pages are configured (HugePages_Total > 0 or THP not never).', ['kind']),
  e2bbench_hugepages_size_bytes: g('Huge page size.'),
  e2bbench_hugepages_pool_pages: g('Huge pages in the pool (HugePages_Total from /proc/meminfo).'),
  e2bbench_hugepages_free: g('HugePages_Free from /proc/meminfo.'),
  e2bbench_hugepages_speedup_ratio: g('Memory-bound throughput with madvise(hugepage) / with nohugepage, minus 1.'),
  e2bbench_hugepages_thp_info: g('Transparent huge page mode (always, madvise, never); value is 1.', ['mode']),
  e2bbench_host_info: g('Host facts; value is 1.', [
    'cpu_model',
    'cpu_vendor',
    'cores',
    'threads',
    'kernel',
    'sysbench_version',
    'fio_version',
  ]),
  e2bbench_code_exec_score: g('Geometric-mean score of the pinned suite against its reference (higher is faster).', [
    'runtime',
  ]),
  e2bbench_code_exec_seconds: g('Seconds per benchmark program of the pinned suite.', ['runtime', 'benchmark']),
  e2bbench_interpreter_start_seconds: g('Interpreter start time (python3 -c pass, node -e 0).', ['runtime']),
  e2bbench_package_install_seconds: g('Package install time against the configured index.', ['manager']),
  e2bbench_container_start_seconds: g(
    "Inside a sandbox: the template's OCI runtime runs a minimal container (/bin/true), run until deleted; median of the run.",
    ['runtime'],
  ),
  e2bbench_isolation_ratio: g(
    '1 - |loaded - baseline| / baseline under aggressor sandboxes; colocated says whether any aggressor shared the victim node.',
    ['resource', 'colocated'],
  ),
  e2bbench_isolation_p99_inflation_ratio: g('Victim p99 latency under load / baseline p99.', ['resource', 'colocated']),
  e2bbench_tool_info: g('Versions of the tools a probe ran; value is 1.', ['probe', 'tool', 'version']),
  e2bbench_sandbox_spec_info: g('Sandbox spec a probe measured; value is 1.', [
    'probe',
    'template',
    'vcpu',
    'memory_mb',
  ]),

  // storage
  e2bbench_storage_operation_seconds: h('Object storage operation latency.', [
    'storage_provider',
    'operation',
    'size_class',
  ]),
  e2bbench_storage_throughput_bytes_per_second: g('Object storage throughput.', [
    'storage_provider',
    'operation',
    'mode',
    'size_class',
  ]),
  e2bbench_storage_latency_seconds: g('Host to storage latency statistic of the last run.', [
    'storage_provider',
    'operation',
    'statistic',
  ]),
  e2bbench_template_download_bytes_per_second: g('Template artifact download speed with ranged GETs.', [
    'storage_provider',
    'concurrency',
  ]),
  e2bbench_template_download_seconds_per_gib: g('Template artifact download time per GiB.', [
    'storage_provider',
    'concurrency',
  ]),

  // cost inputs (derived costs live in recording rules and the report)
  e2bbench_cost_instance_hourly_usd: g('Configured instance price per hour.', ['instance_type', 'pricing_model']),
  e2bbench_cost_nodes: g('Configured number of nodes.', ['instance_type']),
  e2bbench_cost_pricing_model_info: g('Configured pricing model; value is 1.', ['pricing_model']),
  e2bbench_cost_local_disk_bytes: g('Configured local disk per node (local_disk_gb × 2^30).'),
  e2bbench_cost_local_disk_usd_per_gigabyte_month: g('Configured local disk price per GB-month.'),
  e2bbench_cost_object_storage_usd_per_gigabyte_month: g('Configured object storage price per GB-month.'),
  e2bbench_cost_template_bytes: g('Template bytes kept in object storage.'),
  e2bbench_cost_snapshot_bytes: g('Snapshot bytes kept in object storage.'),
  e2bbench_cost_network_usd_per_gigabyte: g('Configured network egress price per GB.'),
  e2bbench_cost_target_utilization_ratio: g('Configured target utilization for cost per sandbox-hour.'),
  e2bbench_cost_vcpu_minute_usd: g('List price per vCPU-minute (E2B cloud).'),
  e2bbench_cost_gib_minute_usd: g('List price per GiB-minute of memory (E2B cloud).'),
  e2bbench_cost_sandbox_vcpu: g('vCPUs of the benchmark sandbox, for list-price cost.', ['template']),
  e2bbench_cost_sandbox_memory_gib: g('Memory (GiB) of the benchmark sandbox, for list-price cost.', ['template']),

  // self
  e2bbench_build_info: self(g('Build facts; value is 1.', ['version', 'e2b_sdk_version', 'node_version'])),
  e2bbench_config_last_reload_successful: self(g('1 if the last configuration load succeeded.')),
  e2bbench_config_last_reload_success_timestamp_seconds: self(g('Unix time of the last successful config load.')),
  e2bbench_scheduler_lag_seconds: self(g('How late the scheduler started the last due run.', ['probe', 'target'])),
  e2bbench_target_info: g('Configured target; value is 1.', ['template', 'connection']),
  e2bbench_machine_info: g(
    'The machine the exporter runs on, which host probes measure (target: the one declared host: self); value is 1.',
    ['instance_type', 'source'],
  ),
} as const satisfies Record<string, MetricDef>;

export type MetricName = keyof typeof CATALOG;

export function labelNamesOf(name: MetricName): string[] {
  const def: MetricDef = CATALOG[name];
  return def.perTarget === false ? [...def.labels] : [...TARGET_LABELS, ...def.labels];
}
