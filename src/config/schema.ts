import { z } from 'zod';
import { DEFAULT_WEIGHTS } from '../report/model.js';
import { parseBytes, parseDuration } from './duration.js';

export const duration = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, { message: 'expected a duration such as "30s", "10m", "1h"' })
  .transform((s) => parseDuration(s)!);

/** The longest delay a Node.js timer holds (2^31 − 1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
const TIMER_RANGE = 'expected a duration from 1ms to 24d (the longest a timer can wait)';

/** A duration something waits for with a timer: zero would spin, more than a timer holds would fire at once. */
export const timerDuration = duration.refine((ms) => ms > 0 && ms <= MAX_TIMER_MS, { message: TIMER_RANGE });

export const bytes = z
  .union([z.string(), z.number()])
  .refine((s) => parseBytes(s) !== undefined, { message: 'expected a size such as "64MiB" or a number of bytes' })
  .transform((s) => parseBytes(s)!);

const listen = z.string().regex(/^[^:]*:\d+$/, 'expected HOST:PORT');

export const CLOUD_PROVIDERS = ['aws', 'azure', 'gcp', 'e2b', 'local'] as const;
export const PRICING_MODELS = ['on_demand', 'reserved_1y', 'reserved_3y', 'spot'] as const;
export const COLD_START_STRATEGIES = ['nomad-restart', 'local-evict', 'fresh-template', 'none'] as const;

const BudgetSchema = z
  .object({
    max_concurrent_sandboxes: z.number().int().positive().default(10),
    max_sandbox_minutes_per_hour: z.number().positive().default(60),
  })
  .strict();

const E2BConnectionSchema = z
  .object({
    api_key: z.string().min(1).optional(),
    domain: z.string().min(1).optional(),
    api_url: z.string().url().optional(),
    sandbox_url: z.string().url().optional(),
    /** Admin token of a local runtime (for local-evict and fault injection). */
    admin_token: z.string().optional(),
    request_timeout: timerDuration.optional(),
  })
  .strict()
  .refine((c) => c.domain !== undefined || c.api_url !== undefined, {
    message: 'set either domain or api_url (+ sandbox_url)',
  });

const NomadSchema = z
  .object({
    addr: z.string().url(),
    token: z.string().optional(),
    job: z.string().default('orchestrator'),
    namespace: z.string().default('default'),
    region: z.string().optional(),
    healthy_timeout: timerDuration.default('5m'),
  })
  .strict();

export const PricingSchema = z
  .object({
    /** Optional for cloud_provider e2b, which is priced by list rates instead. */
    instance_type: z.string().min(1).optional(),
    hourly_usd: z.number().nonnegative().optional(),
    nodes: z.number().int().positive().default(1),
    pricing_model: z.enum(PRICING_MODELS).default('on_demand'),
    local_disk_gb: z.number().nonnegative().default(0),
    local_disk_usd_per_gb_month: z.number().nonnegative().default(0),
    object_storage_usd_per_gb_month: z.number().nonnegative().default(0),
    template_bytes: z.number().nonnegative().optional(),
    snapshot_bytes: z.number().nonnegative().optional(),
    network_usd_per_gb: z.number().nonnegative().default(0),
    target_utilization: z.number().gt(0).max(1).default(0.7),
    vcpu_minute_usd: z.number().nonnegative().optional(),
    gib_minute_usd: z.number().nonnegative().optional(),
    /** Spec of the benchmark sandbox for list-price cost (E2B default: 2 vCPU, 512 MiB). */
    sandbox_vcpu: z.number().positive().optional(),
    sandbox_memory_mib: z.number().positive().optional(),
  })
  .strict();

export const StorageSchema = z
  .object({
    kind: z.enum(['s3', 'gcs', 'azure']),
    bucket: z.string().min(1),
    region: z.string().optional(),
    endpoint: z.string().url().optional(),
    force_path_style: z.boolean().default(false),
    access_key_id: z.string().optional(),
    secret_access_key: z.string().optional(),
    connection_string: z.string().optional(),
    account_name: z.string().optional(),
    account_key: z.string().optional(),
    project_id: z.string().optional(),
    prefix: z.string().default('e2b-bench/'),
    template_objects: z.array(z.string()).default([]),
    /** Read-only: where snapshots live, to measure snapshot bytes for the cost model. */
    snapshot_prefix: z.string().optional(),
  })
  .strict();

export const TargetSchema = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9_.-]+$/, 'expected letters, digits, "_", "." or "-"'),
    cloud_provider: z.enum(CLOUD_PROVIDERS),
    cloud_region: z.string().default('unknown'),
    template: z.string().default('base'),
    /** Absent only for the embedded local target, whose connection is filled in at start-up. */
    e2b: E2BConnectionSchema.optional(),
    cold_start_strategy: z.enum(COLD_START_STRATEGIES).optional(),
    nomad: NomadSchema.optional(),
    storage: StorageSchema.optional(),
    pricing: PricingSchema.optional(),
    budget: BudgetSchema.partial().optional(),
    /** Cap on concurrent probe runs against this target. */
    max_concurrent_runs: z.number().int().positive().default(1),
    /** `self`: this exporter runs on one of the target's nodes, so host figures are placed under it. */
    host: z.literal('self').optional(),
  })
  .strict();

export const LocalRuntimeSchema = z
  .object({
    enabled: z.boolean().default(true),
    driver: z.enum(['namespace', 'gvisor']).default('namespace'),
    listen: listen.default('127.0.0.1:0'),
    envd_listen: listen.default('127.0.0.1:0'),
    data_dir: z.string().optional(),
    template_store: z.string().optional(),
    pool_size: z.number().int().nonnegative().default(2),
    max_sandboxes: z.number().int().positive().default(50),
    max_memory_mb: z.number().int().positive().optional(),
    /** false: no CPU quota or memory limit per sandbox (to see what the limits buy). */
    limits: z.boolean().default(true),
    /** store: the built template (cold = image fetch + mount); host: thin host-derived templates; auto: store when built. */
    templates: z.enum(['auto', 'store', 'host']).default('auto'),
    /** isolated: own network namespace per sandbox (host only at the gateway); host: unsafe opt-in. */
    network: z.enum(['isolated', 'none', 'host']).default('isolated'),
    network_subnet: z
      .string()
      .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'expected an IPv4 block A.B.C.D/N')
      .default('169.254.0.0/16'),
    network_outbound: z.boolean().default(false),
  })
  .strict();

export const METADATA_KINDS = ['aws', 'gcp', 'azure'] as const;

/** The machine the exporter runs on, which host probes measure. Unset fields stay `unknown`. */
export const HostSchema = z
  .object({
    /** Default: the machine's hostname. */
    name: z.string().min(1).optional(),
    cloud_provider: z.string().min(1).optional(),
    cloud_region: z.string().min(1).optional(),
    instance_type: z.string().min(1).optional(),
    /** Fill unset fields from the cloud's instance metadata service (off unless configured). */
    metadata: z
      .object({
        kind: z.enum(METADATA_KINDS),
        /** Default: the cloud's link-local address. */
        url: z.string().url().optional(),
        timeout: timerDuration.default('2s'),
      })
      .strict()
      .optional(),
  })
  .strict();

export const ServerSchema = z
  .object({
    listen: listen.default('127.0.0.1:9477'),
    auth_token: z.string().optional(),
    /** Stable name of this exporter instance, stored on its sandboxes (default: host:port). */
    instance: z.string().min(1).optional(),
    /** How often the reaper looks for leftover sandboxes of ours. */
    reaper_interval: timerDuration.default('5m'),
    host: HostSchema.default({}),
  })
  .strict();

export const SchedulerSchema = z
  .object({
    max_concurrent_runs: z.number().int().positive().default(2),
    jitter_ratio: z.number().min(0).max(0.5).default(0.1),
    max_start_offset: duration
      .refine((ms) => ms <= MAX_TIMER_MS, { message: 'expected a duration up to 24d (the longest a timer can wait)' })
      .default('2m'),
    /** A run that loads this machine (host benchmarks, benchmarks on a local runtime) has it to itself. */
    exclusive_load: z.boolean().default(true),
  })
  .strict();

export const HistorySchema = z
  .object({
    /** SQLite file; default $E2BBENCH_HISTORY_PATH, else history.sqlite in the cache directory. */
    path: z.string().min(1).optional(),
    retention: duration.default('30d'),
  })
  .strict();

const weight = z.number().min(0).max(1);
export const ReportSchema = z
  .object({
    /** The weighted score's categories; default DEFAULT_WEIGHTS (src/report/model.ts). */
    weights: z
      .object({
        start: weight.default(DEFAULT_WEIGHTS.start),
        in_sandbox: weight.default(DEFAULT_WEIGHTS.in_sandbox),
        isolation: weight.default(DEFAULT_WEIGHTS.isolation),
        host: weight.default(DEFAULT_WEIGHTS.host),
        storage: weight.default(DEFAULT_WEIGHTS.storage),
        cost: weight.default(DEFAULT_WEIGHTS.cost),
      })
      .strict()
      .default({}),
  })
  .strict();

/** Settings every probe accepts; a probe's own options are merged in (see config/load.ts). */
export const ProbeBaseSchema = z.object({
  enabled: z.boolean().default(true),
  interval: timerDuration.optional(),
  /** A cron expression (node-cron: 5 or 6 fields) instead of an interval, for off-peak runs. */
  schedule: z.string().min(1).optional(),
  /** Time zone of `schedule` (IANA name); default the machine's. */
  timezone: z.string().min(1).optional(),
  timeout: timerDuration.optional(),
  samples: z.number().int().positive().optional(),
  targets: z.array(z.string()).optional(),
});

export const ConfigShape = z
  .object({
    server: ServerSchema.default({}),
    tracing: z
      .object({ otlp_endpoint: z.string().url().optional(), service_name: z.string().default('e2b-bench') })
      .strict()
      .default({}),
    budget: BudgetSchema.default({}),
    scheduler: SchedulerSchema.default({}),
    histogram_buckets: z.array(z.number().positive()).min(1).optional(),
    local_runtime: LocalRuntimeSchema.default({}),
    history: HistorySchema.default({}),
    report: ReportSchema.default({}),
    /** `<probe>.<statistic>{label=value}` → `<op> <number><unit>`, checked by `e2b-bench suite`. */
    thresholds: z.record(z.string(), z.string()).default({}),
    targets: z.array(TargetSchema).default([]),
    /** false: only the probes listed under `probes` run. */
    enable_all_probes: z.boolean().default(true),
    probes: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type TargetConfig = z.output<typeof TargetSchema>;
export type PricingConfig = z.output<typeof PricingSchema>;
export type StorageConfig = z.output<typeof StorageSchema>;
export type BudgetConfig = z.output<typeof BudgetSchema>;
export type HostConfig = z.output<typeof HostSchema>;
export type HistoryConfig = z.output<typeof HistorySchema>;
export type LocalRuntimeConfig = z.output<typeof LocalRuntimeSchema>;
export type ProbeBaseSettings = z.output<typeof ProbeBaseSchema>;
