import { TargetSchema, type TargetConfig } from '../../src/config/schema.js';
import type { CostInputs } from '../../src/cost/index.js';
import type { RecordedSample } from '../../src/probe/types.js';

const GiB = 2 ** 30;

export interface CostCase {
  target: TargetConfig;
  /** Measurement samples as the probes record them (target labels excluded). */
  measurements: RecordedSample[];
  inputs: CostInputs;
  /** Worked out by hand; see the comments. */
  expected: {
    monthly: Record<string, number>;
    total: number;
    listPerMinute?: number;
    sandboxHour: Record<string, number>;
    perCpuScore: Partial<Record<'sandbox_hour' | 'host_month', Record<string, number>>>;
    per1000Starts: Record<string, number>;
  };
}

/** The three targets of prometheus/tests/cost.test.yml. */
export const CASES: CostCase[] = [
  {
    target: TargetSchema.parse({
      name: 'aws-use1',
      cloud_provider: 'aws',
      cloud_region: 'us-east-1',
      pricing: {
        instance_type: 'm6i.4xlarge',
        hourly_usd: 0.768,
        nodes: 3,
        local_disk_gb: 500,
        local_disk_usd_per_gb_month: 0.08,
        object_storage_usd_per_gb_month: 0.023,
        template_bytes: 10 * GiB,
        snapshot_bytes: 100 * GiB,
        network_usd_per_gb: 0.09,
        target_utilization: 0.6,
      },
    }),
    measurements: [
      { name: 'e2bbench_capacity_max_sandboxes', labels: { template: 'base' }, value: 300 },
      { name: 'e2bbench_capacity_limit_reached', labels: { template: 'base', reason: 'capacity' }, value: 1 },
      { name: 'e2bbench_cpu_events_per_second', labels: { scope: 'sandbox', threads: '8' }, value: 3000 },
      { name: 'e2bbench_cpu_events_per_second', labels: { scope: 'sandbox', threads: '1' }, value: 400 },
      { name: 'e2bbench_cpu_events_per_second', labels: { scope: 'host', threads: '8' }, value: 9000 },
      {
        name: 'e2bbench_sandbox_start_last_seconds',
        labels: { template: 'base', start_type: 'cold', statistic: 'p50' },
        value: 2,
      },
      {
        name: 'e2bbench_sandbox_start_last_seconds',
        labels: { template: 'base', start_type: 'warm', statistic: 'p50' },
        value: 0.5,
      },
      {
        name: 'e2bbench_sandbox_start_last_seconds',
        labels: { template: 'base', start_type: 'cold', statistic: 'p95' },
        value: 3,
      },
    ],
    inputs: {
      maxSandboxes: 300,
      capacityCapped: false,
      cpuEventsPerSecond: { '8': 3000 },
      hostCpuEventsPerSecond: { '8': 9000 },
      startSeconds: { cold: 2, warm: 0.5 },
    },
    expected: {
      // 0.768 × 730 × 3; 500 GB × 0.08 × 3 nodes; 10 GiB × 0.023; 100 GiB × 0.023
      monthly: { instance: 1681.92, local_disk: 120, templates: 0.23, snapshots: 2.3 },
      total: 1804.45,
      sandboxHour: {
        measured_density: 0.00823949771689498, // 1804.45 / 219000
        target_utilization: 0.0137324961948249, // 1804.45 / 131400
      },
      perCpuScore: {
        sandbox_hour: { '8': 0.00000457749873160832 }, // 0.0137324961948249 / 3000
        host_month: { '8': 0.0622933333333333 }, // 0.768 × 730 / 9000 (one instance, the seed's definition)
      },
      per1000Starts: {
        cold: 0.00762916455268054, // 2 s × 1000 × 0.0137324961948249 / 3600
        warm: 0.00190729113817013, // 0.5 s × 1000 × 0.0137324961948249 / 3600
      },
    },
  },
  {
    // No pricing block: E2B list rates and E2B's default 2 vCPU / 512 MiB sandbox.
    target: TargetSchema.parse({ name: 'e2b-cloud', cloud_provider: 'e2b' }),
    measurements: [
      { name: 'e2bbench_capacity_max_sandboxes', labels: { template: 'base' }, value: 100 },
      { name: 'e2bbench_cpu_events_per_second', labels: { scope: 'sandbox', threads: '2' }, value: 1500 },
      {
        name: 'e2bbench_sandbox_start_last_seconds',
        labels: { template: 'base', start_type: 'warm', statistic: 'p50' },
        value: 0.4,
      },
    ],
    inputs: { maxSandboxes: 100, cpuEventsPerSecond: { '2': 1500 }, startSeconds: { warm: 0.4 } },
    expected: {
      listPerMinute: 0.001815, // 2 × 0.00084 + 0.5 × 0.00027
      monthly: { sandbox_list: 79.497 }, // 0.001815 × 60 × 730
      total: 79.497,
      sandboxHour: { list_price: 0.1089 }, // 0.001815 × 60
      perCpuScore: { sandbox_hour: { '2': 0.0000726 } }, // 0.1089 / 1500: the same definition as self-hosted
      per1000Starts: { warm: 0.0121 }, // 0.4 s × 1000 × 0.1089 / 3600
    },
  },
  {
    target: TargetSchema.parse({
      name: 'gcp-usc1',
      cloud_provider: 'gcp',
      cloud_region: 'us-central1',
      pricing: {
        instance_type: 'n2-standard-8',
        hourly_usd: 0.2,
        nodes: 2,
        pricing_model: 'spot',
        object_storage_usd_per_gb_month: 0.02,
      },
    }),
    measurements: [
      { name: 'e2bbench_cpu_events_per_second', labels: { scope: 'sandbox', threads: '4' }, value: 500 },
      // capacity.density stopped at the exporter's cap: 10 is a lower bound, not the capacity
      { name: 'e2bbench_capacity_max_sandboxes', labels: { template: 'base' }, value: 10 },
      { name: 'e2bbench_capacity_limit_reached', labels: { template: 'base', reason: 'cap' }, value: 0 },
      { name: 'e2bbench_cpu_events_per_second', labels: { scope: 'host', threads: '8' }, value: 2000 },
    ],
    inputs: {
      maxSandboxes: 10,
      capacityCapped: true,
      cpuEventsPerSecond: { '4': 500 },
      hostCpuEventsPerSecond: { '8': 2000 },
    },
    expected: {
      monthly: { instance: 292, local_disk: 0 }, // 0.2 × 730 × 2
      total: 292,
      // 292 / 730 / 10, kept apart: no measured_density or target_utilization from a capped run
      sandboxHour: { capped_density: 0.04 },
      // no sandbox-hour price of work, so no sandbox_hour basis; host: 0.2 × 730 / 2000
      perCpuScore: { host_month: { '8': 0.073 } },
      per1000Starts: {},
    },
  },
];
