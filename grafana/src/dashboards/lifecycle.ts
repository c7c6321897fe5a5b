import { bars, Board, heatmap, q, sel, timeseries, TT, TTS } from '../build.js';

const startQuantile = (quantile: number, label: string) =>
  q(
    `histogram_quantile(${quantile}, sum by (target, start_type, pause_kind, le) (rate(${sel('e2bbench_sandbox_start_seconds_bucket', TTS)}[$__rate_interval])))`,
    `${label} {{target}} {{start_type}} {{pause_kind}}`,
    { exemplar: true },
  );

const opQuantile = (quantile: number, label: string) =>
  q(
    `histogram_quantile(${quantile}, sum by (target, operation, le) (rate(${sel('e2bbench_sandbox_operation_seconds_bucket', TT)}[$__rate_interval])))`,
    `${label} {{target}} {{operation}}`,
    { exemplar: true },
  );

/** Cold / warm / restore start distributions with exemplars, phase breakdown, operations, burst, capacity. */
export function lifecycle(): Board {
  return new Board({
    uid: 'e2bbench-lifecycle',
    file: 'lifecycle',
    title: 'e2b-bench / Lifecycle',
    description:
      'Sandbox start (create → first command done) by start type, phases, operations against a running sandbox, burst starts and capacity. Exemplar dots open the trace of the run.',
  })
    .row('Start time')
    .add(
      heatmap({
        title: 'Start time distribution: $start_type',
        description:
          'Histogram buckets of e2bbench_sandbox_start_seconds over time, one panel per start type. Exemplar dots link to the trace of the sample.',
        unit: 's',
        repeat: 'start_type',
        queries: [
          q(
            `sum by (le) (rate(${sel('e2bbench_sandbox_start_seconds_bucket', TT, 'start_type=~"$start_type"')}[$__rate_interval]))`,
          ),
        ],
      }),
      8,
      9,
    )
    .add(
      timeseries({
        title: 'Start time p50 / p95 / p99',
        unit: 's',
        min: 0,
        legendCalcs: ['lastNotNull', 'max'],
        queries: [startQuantile(0.5, 'p50'), startQuantile(0.95, 'p95'), startQuantile(0.99, 'p99')],
      }),
      16,
      9,
    )
    .add(
      timeseries({
        title: 'Start success',
        description: 'Share of start samples of the last run that became interactive.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [q(sel('e2bbench_sandbox_start_success_ratio', TTS), '{{target}} {{start_type}}')],
      }),
      8,
    )
    .add(
      timeseries({
        title: 'Samples per hour',
        description: 'Samples behind the percentiles; alerts need at least 10 per hour.',
        min: 0,
        bars: true,
        queries: [
          q(
            sel('target_start_type:e2bbench_sandbox_start_seconds:samples_increase1h', TTS),
            '{{target}} {{start_type}}',
          ),
        ],
      }),
      8,
    )
    .add(
      bars({
        title: 'Last run statistics',
        description:
          'Per-run statistics of the samples: interpolated percentiles (R-7) with their 95% bootstrap intervals (p50_ci_low … p95_ci_high); the sample count is statistic="n". Outliers beyond ±3σ are flagged in the run record, never dropped.',
        unit: 's',
        min: 0,
        queries: [
          q(
            sel('e2bbench_sandbox_start_last_seconds', TTS, 'statistic!="n"'),
            '{{target}} {{start_type}} {{pause_kind}} {{statistic}}',
          ),
        ],
      }),
      8,
    )
    .row('Phases')
    .add(
      timeseries({
        title: 'Mean time per phase (stacked)',
        description:
          'Means add up to the whole, percentiles do not. Averaged over the selected targets: pick one target for its own breakdown.',
        unit: 's',
        min: 0,
        stack: true,
        queries: [
          q(
            `sum by (start_type, pause_kind, phase) (rate(${sel('e2bbench_sandbox_phase_seconds_sum', TTS)}[$__rate_interval])) / sum by (start_type, pause_kind, phase) (rate(${sel('e2bbench_sandbox_phase_seconds_count', TTS)}[$__rate_interval]))`,
            '{{start_type}} {{pause_kind}} {{phase}}',
          ),
        ],
      }),
    )
    .add(
      timeseries({
        title: 'Phase p95',
        unit: 's',
        min: 0,
        queries: [
          q(
            `histogram_quantile(0.95, sum by (start_type, pause_kind, phase, le) (rate(${sel('e2bbench_sandbox_phase_seconds_bucket', TTS)}[$__rate_interval])))`,
            '{{start_type}} {{pause_kind}} {{phase}}',
            { exemplar: true },
          ),
        ],
      }),
    )
    .add(
      bars({
        title: 'Phase p50 (1h)',
        unit: 's',
        min: 0,
        queries: [
          q(
            sel('target_start_type_phase:e2bbench_sandbox_phase_seconds:p50_rate1h', TTS),
            '{{target}} {{start_type}} {{pause_kind}} {{phase}}',
          ),
        ],
      }),
    )
    .add(
      timeseries({
        title: 'Snapshot: pause time per GiB of sandbox memory',
        unit: 's',
        min: 0,
        queries: [q(sel('e2bbench_sandbox_pause_seconds_per_gib', TT), '{{target}}')],
      }),
    )
    .row('Operations on a running sandbox (the measurement floor)')
    .add(
      timeseries({
        title: 'Operation p50 / p95',
        description: 'Command round trip, 64 KiB stdout, file write / read, kill.',
        unit: 's',
        min: 0,
        queries: [opQuantile(0.5, 'p50'), opQuantile(0.95, 'p95')],
      }),
      24,
    )
    .row('Burst starts and capacity')
    .add(
      timeseries({
        title: 'Burst: time to first / last ready sandbox',
        unit: 's',
        min: 0,
        queries: [q(sel('e2bbench_burst_seconds', TT), '{{target}} {{mode}} {{statistic}}')],
      }),
    )
    .add(
      timeseries({
        title: 'Burst success',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [q(sel('e2bbench_burst_success_ratio', TT), '{{target}} {{mode}}')],
      }),
    )
    .add(
      bars({
        title: 'Capacity: sandboxes at once',
        min: 0,
        queries: [q(sel('e2bbench_capacity_max_sandboxes', TT), '{{target}}')],
      }),
      6,
    )
    .add(
      bars({
        title: 'Capacity: node balance',
        description:
          '1 − coefficient of variation of sandboxes per node, only where the control plane says where each sandbox runs and they ran on two or more nodes (empty otherwise; the run record says why).',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [q(sel('e2bbench_capacity_balance_ratio', TT), '{{target}}')],
      }),
      6,
    )
    .add(
      bars({
        title: 'Capacity: sandboxes per node',
        min: 0,
        queries: [q(sel('e2bbench_capacity_sandboxes_per_node', TT), '{{target}} {{node}}')],
      }),
      6,
    )
    .add(
      bars({
        title: 'Capacity: stopped by',
        description: '1 = stopped on a failure (reason), 0 = stopped on the configured cap.',
        min: 0,
        max: 1,
        queries: [q(sel('e2bbench_capacity_limit_reached', TT), '{{target}} {{reason}}')],
      }),
      6,
    )
    .add(
      timeseries({
        title: 'Benchmark sandboxes: in flight and created per hour',
        min: 0,
        queries: [
          q(sel('e2bbench_sandboxes_in_flight'), 'in flight {{target}}'),
          q(
            `sum by (target, probe) (increase(${sel('e2bbench_sandboxes_created_total')}[1h]))`,
            'created {{target}} {{probe}}',
          ),
        ],
      }),
      24,
    );
}
