import { bars, Board, q, sel, T, table, timeseries, TT, TTS } from '../build.js';

/**
 * Host figures belong to a target only where it declared this machine one of its nodes (host:
 * self); a machine no target holds has no `target` label and is no cloud's figure. Every query
 * aggregates by target, so a target probed from several regions shows once.
 */
const HOST = 'target!="", scope="host"';

const START = 'target_start_type:e2bbench_sandbox_start_seconds';

/** Targets side by side: start percentiles, in-sandbox, host, storage, cost, and the seed's score. */
export function crossCloud(): Board {
  return new Board({
    uid: 'e2bbench-crosscloud',
    file: 'cross-cloud',
    title: 'e2b-bench / Cross-cloud comparison',
    description:
      "Targets side by side: start time percentiles, in-sandbox, host, storage and cost, and the seed's weighted score.",
    time: 'now-7d',
  })
    .row('Weighted score')
    .add(
      bars({
        title: 'Weighted score (0–100)',
        description:
          "The seed's weights: start 20 %, in-sandbox 25 %, isolation 15 %, host 15 %, storage 10 %, cost 15 %. Every input is normalised against the best target (best = 1), so the score only means something next to other targets; components a target has no data for are left out and the weights of the rest renormalised (see coverage).",
        min: 0,
        max: 100,
        decimals: 1,
        queries: [q(`100 * ${sel('target:e2bbench_weighted_score:ratio')}`, '{{target}}')],
      }),
      8,
      9,
    )
    .add(
      table({
        title: 'Score components (best target = 100)',
        queries: [q(`100 * ${sel('target:e2bbench_weighted_score_component:ratio')}`)],
        columns: ['Score'],
        hide: ['cloud_provider', 'cloud_region'],
        decimals: 1,
        sortBy: 'target',
      }),
      10,
      9,
    )
    .add(
      bars({
        title: 'Weight coverage',
        description: 'Share of the total weight a target has data for (1 = all six components).',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [q(sel('target:e2bbench_weighted_score_coverage:ratio'), '{{target}}')],
      }),
      6,
      9,
    )
    .row('Start time (last day)')
    .add(
      bars({
        title: 'p50',
        unit: 's',
        min: 0,
        queries: [q(sel(`${START}:p50_rate1d`, TTS), '{{target}} {{start_type}} {{pause_kind}}')],
      }),
      8,
      8,
    )
    .add(
      bars({
        title: 'p95',
        unit: 's',
        min: 0,
        queries: [q(sel(`${START}:p95_rate1d`, TTS), '{{target}} {{start_type}} {{pause_kind}}')],
      }),
      8,
      8,
    )
    .add(
      bars({
        title: 'p99',
        unit: 's',
        min: 0,
        queries: [q(sel(`${START}:p99_rate1d`, TTS), '{{target}} {{start_type}} {{pause_kind}}')],
      }),
      8,
      8,
    )
    .add(
      table({
        title: 'Start time percentiles and samples (last day)',
        description:
          'Restore rows carry pause_kind (freeze, checkpoint, snapshot): compare restore only within one kind. Cold rows: see how each target made its cache cold.',
        queries: [
          q(sel(`${START}:p50_rate1d`, TTS)),
          q(sel(`${START}:p95_rate1d`, TTS)),
          q(sel(`${START}:p99_rate1d`, TTS)),
          q(sel(`${START}:samples_increase1d`, TTS)),
          q(sel('target_start_type:e2bbench_sandbox_start_success:ratio_avg1d', TTS)),
        ],
        columns: ['p50', 'p95', 'p99', 'Samples', 'Success'],
        sortBy: 'start_type',
        overrides: ['p50', 'p95', 'p99'].map((name) => ({
          matcher: { id: 'byName' as const, options: name },
          properties: [{ id: 'unit', value: 's' }],
        })),
      }),
      18,
      7,
    )
    .add(
      table({
        title: 'Cold start strategy',
        description:
          'How each target made its template cache cold before cold samples (nomad-restart, local-evict, fresh-template). Targets without one publish no cold start.',
        queries: [q(sel('e2bbench_cold_start_strategy_info', T))],
        columns: ['Info'],
        hide: ['Info', 'cloud_provider', 'cloud_region'],
      }),
      6,
      7,
    )
    .add(
      timeseries({
        title: 'Start time p95 over time (1h window)',
        unit: 's',
        min: 0,
        queries: [q(sel(`${START}:p95_rate1h`, TTS), '{{target}} {{start_type}} {{pause_kind}}')],
      }),
      24,
      8,
    )
    .row('In-sandbox')
    .add(
      bars({
        title: 'CPU events/s (sysbench)',
        unit: 'suffix:ev/s',
        min: 0,
        queries: [
          q(
            `max by (target, threads) (${sel('e2bbench_cpu_events_per_second', T, 'scope="sandbox"')})`,
            '{{target}} ×{{threads}}',
          ),
        ],
      }),
      6,
    )
    .add(
      bars({
        title: 'Code execution score',
        description: 'Geometric mean against the pinned reference: higher is faster.',
        min: 0,
        queries: [q(`max by (target, runtime) (${sel('e2bbench_code_exec_score')})`, '{{target}} {{runtime}}')],
      }),
      6,
    )
    .add(
      bars({
        title: 'Disk 4k random read IOPS',
        unit: 'iops',
        min: 0,
        queries: [
          q(
            `max by (target, iodepth) (${sel('e2bbench_disk_iops', T, 'scope="sandbox", pattern="randread"')})`,
            '{{target}} qd{{iodepth}}',
          ),
        ],
      }),
      6,
    )
    .add(
      bars({
        title: 'Isolation under noisy neighbours',
        description: '1 − |loaded − baseline| / baseline: 100 % = aggressors change nothing.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [
          q(
            `max by (target, resource, colocated) (${sel('e2bbench_isolation_ratio')})`,
            '{{target}} {{resource}} colocated={{colocated}}',
          ),
        ],
      }),
      6,
    )
    .row('Host')
    .add(
      bars({
        title: 'Host CPU events/s',
        unit: 'suffix:ev/s',
        min: 0,
        queries: [
          q(`max by (target, threads) (${sel('e2bbench_cpu_events_per_second', T, HOST)})`, '{{target}} ×{{threads}}'),
        ],
      }),
      6,
    )
    .add(
      bars({
        title: 'Host memory bandwidth',
        unit: 'binBps',
        min: 0,
        queries: [
          q(
            `max by (target, operation) (${sel('e2bbench_memory_bandwidth_bytes_per_second', T, HOST)})`,
            '{{target}} {{operation}}',
          ),
        ],
      }),
      6,
    )
    .add(
      bars({
        title: 'Host disk 4k random read IOPS',
        unit: 'iops',
        min: 0,
        queries: [
          q(
            `max by (target, iodepth) (${sel('e2bbench_disk_iops', T, `${HOST}, pattern="randread"`)})`,
            '{{target}} qd{{iodepth}}',
          ),
        ],
      }),
      6,
    )
    .add(
      bars({
        title: 'Virtualization overhead',
        description: '1 − sandbox CPU score / host CPU score, same target and thread count.',
        unit: 'percentunit',
        queries: [q(sel('target_threads:e2bbench_cpu_virtualization_overhead:ratio'), '{{target}} ×{{threads}}')],
      }),
      6,
    )
    .row('Storage')
    .add(
      bars({
        title: 'Object storage throughput',
        unit: 'binBps',
        min: 0,
        queries: [
          q(
            `max by (target, operation, mode, size_class) (${sel('e2bbench_storage_throughput_bytes_per_second')})`,
            '{{target}} {{operation}} {{mode}} {{size_class}}',
          ),
        ],
      }),
      8,
    )
    .add(
      bars({
        title: 'Host → storage latency p50',
        unit: 's',
        min: 0,
        queries: [
          q(
            `max by (target, storage_provider, operation) (${sel('e2bbench_storage_latency_seconds', T, 'statistic="p50"')})`,
            '{{target}} {{storage_provider}} {{operation}}',
          ),
        ],
      }),
      8,
    )
    .add(
      bars({
        title: 'Template download speed',
        unit: 'binBps',
        min: 0,
        queries: [
          q(
            `max by (target, storage_provider, concurrency) (${sel('e2bbench_template_download_bytes_per_second')})`,
            '{{target}} {{storage_provider}} ×{{concurrency}}',
          ),
        ],
      }),
      8,
    )
    .row('Cost')
    .add(
      bars({
        title: 'Price of a sandbox-hour',
        description:
          'Self-hosted: monthly cost over the measured density (and at the configured utilization of it), only where capacity.density reached the platform limit. E2B cloud: list price. Capped densities (the exporter cap stopped the run) are left out: see the cost dashboard.',
        unit: 'currencyUSD',
        min: 0,
        decimals: 4,
        queries: [
          q(
            sel(
              'target_basis:e2bbench_cost_sandbox_hour_usd:ratio',
              T,
              'basis=~"measured_density|target_utilization|list_price"',
            ),
            '{{target}} {{basis}}',
          ),
        ],
      }),
      8,
    )
    .add(
      bars({
        title: 'Sandbox-hour cost per CPU score',
        description:
          'The same definition on every target: price of a sandbox-hour (target utilization self-hosted, list price on E2B cloud) ÷ the sandbox multi-thread sysbench events/s. Lower is better.',
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
        title: 'Monthly cost',
        unit: 'currencyUSD',
        min: 0,
        queries: [q(sel('target:e2bbench_cost_monthly_usd:sum'), '{{target}}')],
      }),
      8,
    )
    .add(
      table({
        title: 'Targets and their templates',
        description: 'In-sandbox results are only comparable between targets that ran the same template.',
        queries: [
          q(`max by (target, cloud_provider, cloud_region, template, connection) (${sel('e2bbench_target_info', TT)})`),
        ],
        columns: ['Info'],
        hide: ['Info'],
        sortBy: 'target',
      }),
      24,
      5,
    );
}
