import { bars, Board, q, sel, stat, table, timeseries, TT } from '../build.js';

/** The same tools inside the sandbox (scope="sandbox") and on the node (scope="host"), side by side. */
export function performance(): Board {
  return new Board({
    uid: 'e2bbench-performance',
    file: 'performance',
    title: 'e2b-bench / In-sandbox & host performance',
    description:
      'sysbench, fio, iperf3 and the pinned code suites, inside the sandbox (scope="sandbox") and on the E2B node (scope="host"); last-run values.',
    time: 'now-7d',
  })
    .row('CPU')
    .add(
      timeseries({
        title: 'sysbench CPU events/s',
        unit: 'suffix:ev/s',
        min: 0,
        queries: [q(sel('e2bbench_cpu_events_per_second'), '{{target}} {{host}} {{scope}} ×{{threads}}')],
      }),
    )
    .add(
      timeseries({
        title: 'Virtualization overhead',
        description:
          '1 − sandbox score / host score. "probe": as the sandbox.cpu probe computed it; "rule": recomputed from the two scopes.',
        unit: 'percentunit',
        queries: [
          q(sel('e2bbench_cpu_virtualization_overhead_ratio'), 'probe {{target}} ×{{threads}}'),
          q(sel('target_threads:e2bbench_cpu_virtualization_overhead:ratio'), 'rule {{target}} ×{{threads}}'),
        ],
      }),
    )
    .add(
      timeseries({
        title: 'CPU event latency',
        unit: 's',
        min: 0,
        queries: [
          q(sel('e2bbench_cpu_event_latency_seconds'), '{{target}} {{host}} {{scope}} ×{{threads}} {{percentile}}'),
        ],
      }),
      8,
    )
    .add(
      timeseries({
        title: 'CPU frequency stability (CV)',
        unit: 'percentunit',
        min: 0,
        queries: [q(sel('e2bbench_cpu_frequency_cv_ratio'), '{{target}} {{host}} {{scope}}')],
      }),
      8,
    )
    .add(
      timeseries({
        title: 'CPU steal',
        unit: 'percentunit',
        min: 0,
        queries: [q(sel('e2bbench_cpu_steal_ratio'), '{{target}} {{host}} {{scope}}')],
      }),
      8,
    )
    .row('Memory and huge pages')
    .add(
      timeseries({
        title: 'Memory bandwidth',
        unit: 'binBps',
        min: 0,
        queries: [q(sel('e2bbench_memory_bandwidth_bytes_per_second'), '{{target}} {{host}} {{scope}} {{operation}}')],
      }),
    )
    .add(
      timeseries({
        title: 'Memory load latency',
        description:
          'Dependent random loads over a working set larger than the last-level cache (pointer chase, bench/memlat.mjs); sandbox above host is the virtualization cost.',
        unit: 's',
        min: 0,
        queries: [q(sel('e2bbench_memory_latency_seconds'), '{{target}} {{host}} {{scope}}')],
      }),
    )
    .add(
      timeseries({
        title: 'Container start in a sandbox',
        description:
          "The template's OCI runtime runs a minimal container (/bin/true) inside a sandbox, run until deleted (sandbox.container); empty where the template has no runtime.",
        unit: 's',
        min: 0,
        queries: [q(sel('e2bbench_container_start_seconds'), '{{target}} {{runtime}}')],
      }),
    )
    .add(
      timeseries({
        title: 'Allocate and write 1 GiB',
        description:
          'Seconds to allocate 1 GiB and write every byte. Sandboxes too small for 1 GiB show a smaller allocation per GiB (dashed: a different figure, its size in the legend).',
        unit: 's',
        min: 0,
        queries: [
          q(sel('e2bbench_memory_alloc_seconds'), '{{target}} {{host}} {{scope}}'),
          q(sel('e2bbench_memory_alloc_seconds_per_gib'), '{{target}} {{host}} {{scope}} per GiB of {{alloc_bytes}} B'),
        ],
      }),
    )
    .add(
      bars({
        title: 'Huge pages speed-up',
        description: 'Memory-bound throughput with madvise(hugepage) over nohugepage, minus 1.',
        unit: 'percentunit',
        queries: [q(sel('e2bbench_hugepages_speedup_ratio'), '{{target}} {{host}}')],
      }),
      6,
    )
    .add(
      stat({
        title: 'Huge pages configured',
        queries: [q(sel('e2bbench_hugepages_enabled'), '{{target}} {{host}} {{kind}}')],
        mappings: [
          {
            type: 'value',
            options: {
              '0': { text: 'off', color: 'text', index: 0 },
              '1': { text: 'on', color: 'green', index: 1 },
            },
          },
        ],
      }),
      6,
    )
    .add(
      table({
        title: 'Huge pages',
        queries: [
          q(sel('e2bbench_hugepages_size_bytes')),
          q(sel('e2bbench_hugepages_pool_pages')),
          q(sel('e2bbench_hugepages_free')),
        ],
        columns: ['Page size', 'Pool pages', 'Free'],
        hide: ['cloud_provider', 'cloud_region'],
        overrides: [{ matcher: { id: 'byName', options: 'Page size' }, properties: [{ id: 'unit', value: 'bytes' }] }],
      }),
      6,
    )
    .add(
      table({
        title: 'Transparent huge pages',
        queries: [q(sel('e2bbench_hugepages_thp_info'))],
        columns: ['Info'],
        hide: ['Info', 'cloud_provider', 'cloud_region'],
      }),
      6,
    )
    .row('Disk (fio)')
    .add(
      timeseries({
        title: 'IOPS',
        unit: 'iops',
        min: 0,
        queries: [
          q(sel('e2bbench_disk_iops'), '{{target}} {{host}} {{scope}} {{pattern}} qd{{iodepth}} direct={{direct}}'),
        ],
      }),
      8,
    )
    .add(
      timeseries({
        title: 'Throughput',
        unit: 'binBps',
        min: 0,
        queries: [
          q(
            sel('e2bbench_disk_throughput_bytes_per_second'),
            '{{target}} {{host}} {{scope}} {{pattern}} qd{{iodepth}} direct={{direct}}',
          ),
        ],
      }),
      8,
    )
    .add(
      timeseries({
        title: 'Completion latency',
        unit: 's',
        min: 0,
        queries: [
          q(
            sel('e2bbench_disk_latency_seconds'),
            '{{target}} {{host}} {{scope}} {{pattern}} qd{{iodepth}} {{percentile}}',
          ),
        ],
      }),
      8,
    )
    .row('Network')
    .add(
      timeseries({
        title: 'Network bandwidth',
        description:
          'iperf3 to configured servers and HTTP downloads of configured URLs (host.internet, sandbox.network).',
        unit: 'binBps',
        min: 0,
        queries: [
          q(
            sel('e2bbench_network_bandwidth_bytes_per_second'),
            '{{target}} {{host}} {{scope}} {{direction}} → {{endpoint}}',
          ),
        ],
      }),
      8,
    )
    .add(
      timeseries({
        title: 'Round-trip time',
        unit: 's',
        min: 0,
        queries: [q(sel('e2bbench_network_rtt_seconds'), '{{target}} {{host}} {{scope}} → {{endpoint}}')],
      }),
      8,
    )
    .add(
      timeseries({
        title: 'Small-datagram packets/s',
        unit: 'pps',
        min: 0,
        queries: [q(sel('e2bbench_network_packets_per_second'), '{{target}} {{host}} {{scope}} → {{endpoint}}')],
      }),
      8,
    )
    .add(
      timeseries({
        title: 'Stability (CV of repeated measurements)',
        unit: 'percentunit',
        min: 0,
        queries: [q(sel('e2bbench_network_stability_cv_ratio'), '{{target}} {{host}} {{scope}} → {{endpoint}}')],
      }),
    )
    .add(
      timeseries({
        title: 'TCP retransmits',
        min: 0,
        queries: [q(sel('e2bbench_network_retransmits'), '{{target}} {{host}} {{scope}} {{direction}} → {{endpoint}}')],
      }),
    )
    .row('Code execution')
    .add(
      timeseries({
        title: 'Code execution score',
        description: 'Geometric mean against the pinned reference: higher is faster.',
        min: 0,
        queries: [q(sel('e2bbench_code_exec_score'), '{{target}} {{runtime}}')],
      }),
    )
    .add(
      timeseries({
        title: 'Seconds per benchmark program',
        unit: 's',
        min: 0,
        queries: [q(sel('e2bbench_code_exec_seconds'), '{{target}} {{runtime}} {{benchmark}}')],
      }),
    )
    .add(
      timeseries({
        title: 'Interpreter start',
        unit: 's',
        min: 0,
        queries: [q(sel('e2bbench_interpreter_start_seconds'), '{{target}} {{runtime}}')],
      }),
    )
    .add(
      timeseries({
        title: 'Package install',
        unit: 's',
        min: 0,
        queries: [q(sel('e2bbench_package_install_seconds'), '{{target}} {{manager}}')],
      }),
    )
    .row('Isolation (noisy neighbours)')
    .add(
      timeseries({
        title: 'Isolation',
        description: '1 − |loaded − baseline| / baseline of the victim sandbox under aggressor sandboxes.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [q(sel('e2bbench_isolation_ratio'), '{{target}} {{resource}} colocated={{colocated}}')],
      }),
    )
    .add(
      timeseries({
        title: 'Victim p99 latency inflation',
        description: 'Victim p99 under load / baseline p99 (1 = no change).',
        min: 0,
        queries: [q(sel('e2bbench_isolation_p99_inflation_ratio'), '{{target}} {{resource}} colocated={{colocated}}')],
      }),
    )
    .row('What was measured')
    .add(
      table({
        title: 'Hosts',
        queries: [q(sel('e2bbench_host_info'))],
        columns: ['Info'],
        hide: ['Info'],
      }),
      24,
      5,
    )
    .add(
      table({
        title: 'Tool versions',
        queries: [q(sel('e2bbench_tool_info'))],
        columns: ['Info'],
        hide: ['Info', 'cloud_provider', 'cloud_region'],
        sortBy: 'probe',
      }),
    )
    .add(
      table({
        title: 'Sandbox spec measured',
        queries: [q(sel('e2bbench_sandbox_spec_info', TT))],
        columns: ['Info'],
        hide: ['Info', 'cloud_provider', 'cloud_region'],
        sortBy: 'probe',
      }),
    );
}
