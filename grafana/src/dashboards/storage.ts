import { bars, Board, heatmap, q, sel, timeseries } from '../build.js';

/** Object storage from the node: latency histograms with exemplars, throughput, template download. */
export function storage(): Board {
  return new Board({
    uid: 'e2bbench-storage',
    file: 'storage',
    title: 'e2b-bench / Storage',
    description:
      'Object storage (S3, GCS, Azure Blob) as the E2B node sees it: operation latency, throughput, host → storage latency, template download speed.',
    time: 'now-7d',
  })
    .row('Operation latency')
    .add(
      heatmap({
        title: 'Operation latency distribution',
        description: 'All storage operations of the selected targets. Exemplar dots link to the trace of the run.',
        unit: 's',
        queries: [q(`sum by (le) (rate(${sel('e2bbench_storage_operation_seconds_bucket')}[$__rate_interval]))`)],
      }),
      10,
      9,
    )
    .add(
      timeseries({
        title: 'Operation p95',
        unit: 's',
        min: 0,
        queries: [
          q(
            `histogram_quantile(0.95, sum by (target, operation, size_class, le) (rate(${sel('e2bbench_storage_operation_seconds_bucket')}[$__rate_interval])))`,
            '{{target}} {{operation}} {{size_class}}',
            { exemplar: true },
          ),
        ],
      }),
      14,
      9,
    )
    .add(
      bars({
        title: 'Operation p50 (1h)',
        unit: 's',
        min: 0,
        queries: [
          q(
            sel('target_storage_operation:e2bbench_storage_operation_seconds:p50_rate1h'),
            '{{target}} {{storage_provider}} {{operation}} {{size_class}}',
          ),
        ],
      }),
    )
    .add(
      bars({
        title: 'Operation p95 (1h)',
        unit: 's',
        min: 0,
        queries: [
          q(
            sel('target_storage_operation:e2bbench_storage_operation_seconds:p95_rate1h'),
            '{{target}} {{storage_provider}} {{operation}} {{size_class}}',
          ),
        ],
      }),
    )
    .row('Throughput')
    .add(
      timeseries({
        title: 'Upload / download throughput',
        description: 'mode: one object at a time, or N objects in parallel (aggregate).',
        unit: 'binBps',
        min: 0,
        queries: [
          q(
            sel('e2bbench_storage_throughput_bytes_per_second'),
            '{{target}} {{storage_provider}} {{operation}} {{mode}} {{size_class}}',
          ),
        ],
      }),
      24,
    )
    .row('From the host')
    .add(
      timeseries({
        title: 'Host → storage latency',
        description: 'Small GET time to first byte, HEAD and TCP connect; p50 / p95 of the last run.',
        unit: 's',
        min: 0,
        queries: [
          q(sel('e2bbench_storage_latency_seconds'), '{{target}} {{storage_provider}} {{operation}} {{statistic}}'),
        ],
      }),
      8,
    )
    .add(
      timeseries({
        title: 'Template download speed',
        description: '4 MiB ranged GETs of the configured template objects, at 1 and 16 concurrent requests.',
        unit: 'binBps',
        min: 0,
        queries: [
          q(sel('e2bbench_template_download_bytes_per_second'), '{{target}} {{storage_provider}} ×{{concurrency}}'),
        ],
      }),
      8,
    )
    .add(
      timeseries({
        title: 'Template download time per GiB',
        unit: 's',
        min: 0,
        queries: [
          q(sel('e2bbench_template_download_seconds_per_gib'), '{{target}} {{storage_provider}} ×{{concurrency}}'),
        ],
      }),
      8,
    );
}
