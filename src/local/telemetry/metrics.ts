import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** The runtime's own metrics (`e2blocal_`), on a registry separate from the exporter's. */
export class LocalMetrics {
  readonly registry = new Registry();
  readonly info = new Gauge({
    name: 'e2blocal_info',
    help: 'Local runtime build information (value 1).',
    labelNames: ['driver', 'pause_kind', 'envd_version', 'cgroup_version', 'limits', 'network'] as const,
    registers: [this.registry],
  });
  readonly sandboxes = new Gauge({
    name: 'e2blocal_sandboxes',
    help: 'Sandboxes by state.',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly poolSandboxes = new Gauge({
    name: 'e2blocal_pool_sandboxes',
    help: 'Pre-started sandboxes waiting in the warm pool, by template.',
    labelNames: ['template'] as const,
    registers: [this.registry],
  });
  readonly creates = new Counter({
    name: 'e2blocal_sandbox_creates_total',
    help: 'Sandbox create requests by start type and result.',
    labelNames: ['start_type', 'result'] as const,
    registers: [this.registry],
  });
  readonly createSeconds = new Histogram({
    name: 'e2blocal_sandbox_create_seconds',
    help: 'Server-side time to a sandbox ready to run commands, by start type.',
    labelNames: ['start_type'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly phaseSeconds = new Histogram({
    name: 'e2blocal_phase_seconds',
    help: 'Duration of server-side lifecycle phases (template_fetch, unpack, template_mount, rootfs_mount, network, spawn, ready, freeze, thaw, checkpoint, restore).',
    labelNames: ['phase', 'result'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly kills = new Counter({
    name: 'e2blocal_sandbox_kills_total',
    help: 'Sandboxes ended, by reason (api, timeout, crash, shutdown).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly apiRequests = new Counter({
    name: 'e2blocal_api_requests_total',
    help: 'Control-plane requests by route and status code.',
    labelNames: ['route', 'code'] as const,
    registers: [this.registry],
  });
  readonly envdRequests = new Counter({
    name: 'e2blocal_envd_requests_total',
    help: 'envd requests by route and status code.',
    labelNames: ['route', 'code'] as const,
    registers: [this.registry],
  });
  readonly evictions = new Counter({
    name: 'e2blocal_template_evictions_total',
    help: 'Template cache evictions requested through the admin API.',
    registers: [this.registry],
  });
  readonly faults = new Counter({
    name: 'e2blocal_faults_injected_total',
    help: 'Injected faults by kind.',
    labelNames: ['fault'] as const,
    registers: [this.registry],
  });
  /** Per-sandbox interface counters, read at scrape time (set by the runtime). */
  networkSource: () => { sandboxId: string; sentBytes: number; receivedBytes: number }[] = () => [];
  readonly networkBytes: Counter<'sandbox_id' | 'direction'> = new Counter({
    name: 'e2blocal_sandbox_network_bytes_total',
    help: "Bytes through each running sandbox's own network interface (its veth's counters), by direction as the sandbox sees it (sent, received).",
    labelNames: ['sandbox_id', 'direction'] as const,
    registers: [this.registry],
    collect: () => {
      this.networkBytes.reset();
      for (const s of this.networkSource()) {
        this.networkBytes.inc({ sandbox_id: s.sandboxId, direction: 'sent' }, s.sentBytes);
        this.networkBytes.inc({ sandbox_id: s.sandboxId, direction: 'received' }, s.receivedBytes);
      }
    },
  });
  readonly snapshotBytes = new Gauge({
    name: 'e2blocal_snapshot_bytes',
    help: 'Bytes held by snapshots on disk.',
    registers: [this.registry],
  });
}
