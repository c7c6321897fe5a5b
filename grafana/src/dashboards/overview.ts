import { Board, okFail, q, sel, stat, statusHistory, table, timeseries, TTS, upDown } from '../build.js';

const ALERTS = [
  'ColdStartP95Regression',
  'WarmStartP50High',
  'SnapshotRestoreFailing',
  'ProbeFailing',
  'ProbeStale',
  'SandboxesLeaked',
  'BudgetExhausted',
  'ExporterDown',
].join('|');

/** Targets × probes health, last results and what benchmarking itself costs. */
export function overview(): Board {
  return new Board({
    uid: 'e2bbench-overview',
    file: 'overview',
    title: 'e2b-bench / Overview',
    description: 'Targets × probes: health, last results, headline start times, and the exporter itself.',
  })
    .row('Health')
    .add(stat({ title: 'Targets', queries: [q(`count(${sel('e2bbench_target_info')})`)] }), 4, 4)
    .add(
      stat({
        title: 'Exporter',
        description: 'Prometheus scrape of the e2b-bench job (ExporterDown fires after 5 minutes down).',
        queries: [q('min(up{job="e2b-bench"})')],
        mappings: [upDown],
        thresholds: [
          { color: 'red', value: null },
          { color: 'green', value: 1 },
        ],
      }),
      4,
      4,
    )
    .add(
      stat({
        title: 'Probes failing now',
        description: 'Target × probe pairs whose last run failed.',
        queries: [q(`count(${sel('e2bbench_probe_success')} == 0) or vector(0)`)],
        thresholds: [
          { color: 'green', value: null },
          { color: 'red', value: 1 },
        ],
      }),
      4,
      4,
    )
    .add(
      stat({
        title: 'Sandboxes in flight',
        description: 'Sandboxes created by the exporter and not killed yet.',
        queries: [q(`sum(${sel('e2bbench_sandboxes_in_flight')})`)],
        thresholds: [{ color: 'blue', value: null }],
      }),
      4,
      4,
    )
    .add(
      stat({
        title: 'Sandboxes leaked (24h)',
        description: 'Sandboxes of ours the reaper had to kill.',
        queries: [q(`sum(increase(${sel('e2bbench_sandboxes_leaked_total')}[24h])) or vector(0)`)],
        decimals: 0,
        thresholds: [
          { color: 'green', value: null },
          { color: 'orange', value: 1 },
        ],
      }),
      4,
      4,
    )
    .add(
      stat({
        title: 'Firing alerts',
        description: 'e2b-bench alerts firing in Prometheus.',
        queries: [q(`count(ALERTS{alertstate="firing", alertname=~"${ALERTS}"}) or vector(0)`)],
        thresholds: [
          { color: 'green', value: null },
          { color: 'red', value: 1 },
        ],
      }),
      4,
      4,
    )
    .row('Targets × probes')
    .add(
      table({
        title: 'Last results',
        description:
          'One row per target and probe: last result, when it ended, how long it took, success share of the last day, configured interval.',
        queries: [
          q(sel('e2bbench_probe_success')),
          q(`time() - ${sel('e2bbench_probe_last_run_timestamp_seconds')}`),
          q(sel('e2bbench_probe_duration_seconds')),
          q(sel('target_probe:e2bbench_probe_success:ratio_rate1d')),
          q(sel('e2bbench_probe_interval_seconds')),
        ],
        columns: ['Last run', 'Ended (ago)', 'Duration', 'Success (1d)', 'Interval'],
        hide: ['cloud_provider', 'cloud_region'],
        sortBy: 'probe',
        overrides: [
          { matcher: { id: 'byName', options: 'Last run' }, properties: [{ id: 'mappings', value: [okFail] }] },
          {
            matcher: { id: 'byName', options: 'Last run' },
            properties: [{ id: 'custom.cellOptions', value: { type: 'color-background' } }],
          },
          { matcher: { id: 'byName', options: 'Ended (ago)' }, properties: [{ id: 'unit', value: 's' }] },
          { matcher: { id: 'byName', options: 'Duration' }, properties: [{ id: 'unit', value: 's' }] },
          { matcher: { id: 'byName', options: 'Interval' }, properties: [{ id: 'unit', value: 's' }] },
          {
            matcher: { id: 'byName', options: 'Success (1d)' },
            properties: [{ id: 'unit', value: 'percentunit' }],
          },
        ],
      }),
      24,
      10,
    )
    .add(
      statusHistory({
        title: 'Probe results over time',
        queries: [q(sel('e2bbench_probe_success'), '{{target}} {{probe}}')],
      }),
      24,
      8,
    )
    .row('Headline results')
    .add(
      timeseries({
        title: 'Start time p95 (1h window)',
        description: 'Create → first command done, p95 over the last hour, per target and start type.',
        unit: 's',
        min: 0,
        queries: [
          q(
            sel('target_start_type:e2bbench_sandbox_start_seconds:p95_rate1h', TTS),
            '{{target}} {{start_type}} {{pause_kind}}',
          ),
        ],
      }),
    )
    .add(
      timeseries({
        title: 'Weighted cross-cloud score',
        description:
          "The seed's weights (start 20 %, in-sandbox 25 %, isolation 15 %, host 15 %, storage 10 %, cost 15 %).",
        min: 0,
        max: 100,
        queries: [q(`100 * ${sel('target:e2bbench_weighted_score:ratio')}`, '{{target}}')],
      }),
    )
    .row('The exporter')
    .add(
      timeseries({
        title: 'Probe run time p95',
        description: 'Wall time of probe runs. The dots are exemplars: each opens the trace of one run.',
        unit: 's',
        min: 0,
        queries: [
          q(
            `histogram_quantile(0.95, sum by (target, probe, le) (rate(${sel('e2bbench_probe_run_seconds_bucket')}[$__rate_interval])))`,
            '{{target}} {{probe}}',
            { exemplar: true },
          ),
        ],
      }),
    )
    .add(
      timeseries({
        title: 'Runs, failures and skips per hour',
        min: 0,
        queries: [
          q(
            `sum by (target, trigger) (increase(${sel('e2bbench_probe_runs_total')}[1h]))`,
            'runs {{target}} {{trigger}}',
          ),
          q(
            `sum by (target, reason) (increase(${sel('e2bbench_probe_failures_total')}[1h]))`,
            'failed {{target}} {{reason}}',
          ),
          q(
            `sum by (target, reason) (increase(${sel('e2bbench_probe_skipped_total')}[1h]))`,
            'skipped {{target}} {{reason}}',
          ),
        ],
      }),
    )
    .add(
      timeseries({
        title: 'What benchmarking costs: sandbox-minutes per hour',
        description: 'Sandbox time spent by the probes, and the budget used in the current hour.',
        min: 0,
        queries: [
          q(
            `sum by (target, probe) (increase(${sel('e2bbench_sandbox_lifetime_seconds_total')}[1h])) / 60`,
            '{{target}} {{probe}}',
          ),
          q(`${sel('e2bbench_budget_used_sandbox_seconds')} / 60`, 'budget used {{target}}'),
        ],
      }),
    )
    .add(
      timeseries({
        title: 'Scheduler lag',
        description: 'How late the scheduler started the last due run.',
        unit: 's',
        min: 0,
        queries: [
          q('max by (target, probe) (e2bbench_scheduler_lag_seconds{target=~"$target"})', '{{target}} {{probe}}'),
        ],
      }),
    )
    .add(
      table({
        title: 'Exporter build and configuration',
        queries: [q('e2bbench_build_info'), q('e2bbench_config_last_reload_successful')],
        columns: ['Build', 'Config loaded'],
        hide: ['Build'],
        overrides: [
          {
            matcher: { id: 'byName', options: 'Config loaded' },
            properties: [{ id: 'mappings', value: [okFail] }],
          },
        ],
      }),
      24,
      4,
    );
}
