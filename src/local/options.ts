import type { Tracer, TracerProvider } from '@opentelemetry/api';
import type { LocalRuntimeConfig } from '../config/schema.js';
import type { TemplateProvider } from './core/templates.js';
import type { NetworkMode } from './driver/types.js';

/** How to start the local E2B-compatible runtime (`startLocalRuntime`). */
export interface LocalRuntimeOptions {
  /** Control plane (E2B REST API) address, HOST:PORT; port 0 picks a free one. Default 127.0.0.1:0. */
  listen?: string;
  /** envd (sandbox daemon) address for every sandbox, HOST:PORT. Default 127.0.0.1:0. */
  envdListen?: string;
  /** Key clients send in X-API-KEY. Default: a random `e2b_…` key (read it from the result). */
  apiKey?: string;
  /** Bearer token of the /admin API. Default: random. */
  adminToken?: string;
  /** Sandbox driver. Default `namespace`. */
  driver?: 'namespace' | 'gvisor';
  /** Working directory for sandboxes, snapshots, caches. Default: a fresh temp dir, removed by stop(). */
  dataDir?: string;
  /**
   * Where templates come from: `store` (the built local template through the node cache), `host`
   * (tiny host-derived development templates `base` and `small`: own /etc and /home, the host's
   * /usr read-only), or a provider. Default: `store` when the store holds a built template, else
   * `host` (logged).
   */
  templates?: TemplateProvider | 'store' | 'host';
  /** Template store directory (default: the template module's default store). */
  templateStore?: string;
  /** Warm pool size: one number for the default template, or per template name. Default 0. */
  poolSize?: number | Record<string, number>;
  /**
   * Longest a pool refill waits for the sandbox that took from the pool to finish its first
   * command (so the two do not compete for the CPU). Default 1000 ms.
   */
  poolRefillDeferMs?: number;
  /** Template name the SDK creates when it names none. Default `base`. */
  defaultTemplate?: string;
  /** Concurrent sandboxes (running + paused) before create answers 429. Default 50. */
  maxSandboxes?: number;
  /** Sum of sandbox memory (MiB) before create answers 503. Default: unlimited. */
  maxMemoryMb?: number;
  /**
   * Enforce each template's CPU quota and memory limit (cgroups). false lets sandboxes compete like
   * plain processes, to measure what the limits buy (noisy-neighbour isolation). Default true.
   */
  limits?: boolean;
  /**
   * `isolated` (default): each sandbox has its own network namespace on a bridge of the runtime,
   * reaching the host only at the gateway address, other sandboxes not at all. `none`: loopback
   * only. `host`: the host's network, loopback services included: unsafe, for trusted code only.
   * The gvisor driver always gives its sandboxes their own loopback only.
   */
  network?: NetworkMode;
  /** IPv4 block the runtime's /24 is taken from (a /24 or narrower is used as given). Default 169.254.0.0/16. */
  networkSubnet?: string;
  /** NAT isolated sandboxes' traffic beyond the bridge (the machine's networks). Default false. */
  networkOutbound?: boolean;
  /** Sandbox timeout when a create names none, seconds. Default 300. */
  defaultTimeoutSec?: number;
  /** Upper bound on any sandbox timeout, seconds. Default 86400. */
  maxTimeoutSec?: number;
  /** Spans go here (continuing the caller's traceparent); default: the global provider (no-op unless set). */
  tracerProvider?: TracerProvider | Tracer;
  /** Install SIGTERM/SIGINT handlers that kill every sandbox synchronously and exit. Default false. */
  handleSignals?: boolean;
  log?: (message: string) => void;
}

/** Map the `local_runtime` config block onto runtime options. */
export function optionsFromConfig(cfg: LocalRuntimeConfig): LocalRuntimeOptions {
  return {
    driver: cfg.driver,
    listen: cfg.listen,
    envdListen: cfg.envd_listen,
    dataDir: cfg.data_dir,
    templateStore: cfg.template_store,
    poolSize: cfg.pool_size,
    maxSandboxes: cfg.max_sandboxes,
    maxMemoryMb: cfg.max_memory_mb,
    limits: cfg.limits,
    network: cfg.network,
    networkSubnet: cfg.network_subnet,
    networkOutbound: cfg.network_outbound,
    templates: cfg.templates === 'auto' ? undefined : cfg.templates,
  };
}

export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  if (i < 0) throw new Error(`expected HOST:PORT, got '${listen}'`);
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(listen.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port in '${listen}'`);
  return { host, port };
}
