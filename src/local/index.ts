import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createControlPlaneHandler } from './api/server.js';
import { TemplateBuilds } from './build/builds.js';
import { BuiltTemplates } from './build/registry.js';
import { Faults } from './core/faults.js';
import { randomApiKey, randomId, randomToken } from './core/ids.js';
import { SandboxManager } from './core/manager.js';
import type { TemplateProvider } from './core/templates.js';
import { StoreTemplateProvider } from './core/store-templates.js';
import { ownerName, selfOwner } from './driver/net-plan.js';
import { Cgroups, removeParentSync, sweepDeadRuntimes } from './driver/cgroup.js';
import { NamespaceDriver } from './driver/namespace.js';
import { SandboxNetwork } from './driver/netns.js';
import type { NetworkMode, SandboxDriver } from './driver/types.js';
import { createEnvdHandler } from './envd/server.js';
import { ENVD_VERSION } from './envd/types.js';
import { parseListen, type LocalRuntimeOptions } from './options.js';
import { HostTemplateProvider } from './rootfs/host-template.js';
import { LocalMetrics } from './telemetry/metrics.js';
import { RuntimeTracing } from './telemetry/tracing.js';

export type { LocalRuntimeOptions } from './options.js';
export { optionsFromConfig } from './options.js';
export type { TemplateProvider, ResolvedTemplate } from './core/templates.js';
export { StoreTemplateProvider } from './core/store-templates.js';
export { HostTemplateProvider, HOST_TEMPLATES } from './rootfs/host-template.js';
export type { SandboxDriver } from './driver/types.js';

export interface LocalRuntime {
  /** Pass as the SDK's `apiUrl`. */
  apiUrl: string;
  /** Pass as the SDK's `sandboxUrl`. */
  sandboxUrl: string;
  apiKey: string;
  /** Bearer token of `${apiUrl}/admin/...`. */
  adminToken: string;
  /** The runtime's own Prometheus metrics (`e2blocal_*`). */
  metricsUrl: string;
  driver: 'namespace' | 'gvisor';
  /** `freeze` (namespace: nothing saved) or `checkpoint` (gvisor: state written to disk). */
  pauseKind: 'freeze' | 'checkpoint';
  envdVersion: string;
  dataDir: string;
  /** This runtime's parent cgroup directories (one per hierarchy); sandboxes are subdirectories. */
  cgroupDirs: string[];
  /**
   * Sandboxes' network. With `isolated` (namespace driver): the runtime's bridge, its /24 and the
   * gateway address, the only address of the host sandboxes reach (serve test endpoints there).
   */
  network: { mode: NetworkMode; bridge?: string; subnet?: string; gateway?: string };
  /** Kill every sandbox, unmount, remove cgroups and temporary data, close the servers. */
  stop(): Promise<void>;
  /** Synchronous best-effort version of stop() for exit paths (no server close). */
  stopSync(): void;
}

const live = new Set<LocalRuntime>();
let exitHookInstalled = false;

/** Kill every sandbox of every runtime in this process, synchronously (for exit / signal handlers). */
export function stopAllLocalRuntimesSync(): void {
  for (const rt of [...live]) rt.stopSync();
}

function listen(server: Server, addr: string): Promise<string> {
  const { host, port } = parseListen(addr);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const a = server.address() as AddressInfo;
      const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      resolve(`http://${h}:${a.port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function createDriver(
  name: 'namespace' | 'gvisor',
  dataDir: string,
  cgroupParent: string,
  limits: boolean,
  network: SandboxNetwork | undefined,
): Promise<SandboxDriver> {
  const cgroups = Cgroups.detect(cgroupParent, { limits });
  if (name === 'gvisor') {
    const { GvisorDriver } = await import('./driver/gvisor.js');
    return new GvisorDriver({ dataDir, cgroups });
  }
  return new NamespaceDriver({ dataDir, cgroups, network });
}

async function chooseTemplates(
  opts: LocalRuntimeOptions,
  dataDir: string,
  log: (m: string) => void,
): Promise<TemplateProvider> {
  const want = opts.templates;
  if (want !== undefined && typeof want !== 'string') return want;
  const host = () => new HostTemplateProvider(path.join(dataDir, 'templates'));
  if (want === 'host') return host();
  const store = new StoreTemplateProvider(opts.templateStore ? { store: opts.templateStore } : {});
  if (want === 'store' || (await store.available())) return store;
  log(
    'local runtime: no built template in the store (run `e2b-bench template build`); using host-derived development templates',
  );
  return host();
}

/**
 * Start the local E2B-compatible runtime: the control plane (REST, X-API-KEY) and envd (Connect
 * RPC + /files, routed by E2b-Sandbox-Id) on two ports, sandboxes from the chosen driver.
 * Needs root (mounts, cgroups, namespaces).
 */
export async function startLocalRuntime(opts: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const log = opts.log ?? (() => undefined);
  const ownDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'e2b-local-'));
  await mkdir(dataDir, { recursive: true });
  const runtimeId = randomId(8);
  // Named after this process, like its network objects: a later runtime sweeps it if we die.
  const cgroupParent = `e2blocal/${ownerName(selfOwner(), runtimeId)}`;
  const driverName = opts.driver ?? 'namespace';
  const limits = opts.limits ?? true;
  const networkMode = opts.network ?? 'isolated';
  // gvisor keeps its own network (runsc --network=none: the sandbox's own loopback only).
  const network =
    driverName === 'namespace' && networkMode === 'isolated'
      ? await SandboxNetwork.start({
          runtimeId,
          subnet: opts.networkSubnet,
          outbound: opts.networkOutbound,
          prepared: Math.max(2, typeof opts.poolSize === 'number' ? opts.poolSize : 0),
          log,
        })
      : undefined;
  let driver: SandboxDriver;
  try {
    driver = await createDriver(driverName, dataDir, cgroupParent, limits, network);
  } catch (err) {
    await network?.stop();
    throw err;
  }
  const stock = await chooseTemplates(opts, dataDir, log);
  const templates = new BuiltTemplates(stock);
  const defaultTemplate = opts.defaultTemplate ?? 'base';
  const metrics = new LocalMetrics();
  const faults = new Faults((f) => metrics.faults.inc({ fault: f }));
  const tracing = new RuntimeTracing(opts.tracerProvider, (phase, seconds, ok) =>
    metrics.phaseSeconds.observe({ phase, result: ok ? 'ok' : 'error' }, seconds),
  );
  const cgroups = (driver as { cgroups?: Cgroups }).cgroups;
  if (cgroups) {
    const swept = await sweepDeadRuntimes(cgroups);
    if (swept > 0) log(`cgroups: removed ${swept} groups of runtimes no longer running`);
  }
  metrics.info.set(
    {
      driver: driver.name,
      pause_kind: driver.pauseKind,
      envd_version: ENVD_VERSION,
      cgroup_version: String(cgroups?.version ?? 'none'),
      limits: limits ? 'on' : 'off',
      network: driver.name === 'gvisor' ? 'gvisor' : networkMode,
    },
    1,
  );
  metrics.networkSource = () =>
    manager.all().flatMap((r) => {
      const c = driver.networkCounters?.(r.driverSandbox);
      return c ? [{ sandboxId: r.sandboxId, ...c }] : [];
    });
  const poolSize = (t: string) =>
    typeof opts.poolSize === 'number' ? (t === defaultTemplate ? opts.poolSize : 0) : (opts.poolSize?.[t] ?? 0);
  const manager = new SandboxManager({
    driver,
    templates,
    dataDir,
    network: networkMode,
    maxSandboxes: opts.maxSandboxes ?? 50,
    maxMemoryMb: opts.maxMemoryMb,
    defaultTimeoutSec: opts.defaultTimeoutSec ?? 300,
    maxTimeoutSec: opts.maxTimeoutSec ?? 86_400,
    poolSize,
    poolRefillDeferMs: opts.poolRefillDeferMs,
    tracing,
    metrics,
    faults,
    log,
  });
  const builds = new TemplateBuilds({
    registry: templates,
    driver,
    dataDir,
    network: networkMode,
    tracing,
    log,
    // gVisor's snapshot is a checkpoint of the whole sandbox; builds are implemented on the namespace driver.
    unsupported: driver.name === 'gvisor' ? 'template builds are implemented for the namespace driver only' : undefined,
  });
  const apiKey = opts.apiKey ?? randomApiKey();
  const adminToken = opts.adminToken ?? randomToken(24);

  const apiServer = createServer(
    createControlPlaneHandler({
      manager,
      templates,
      builds,
      faults,
      metrics,
      apiKey,
      adminToken,
      driverName: driver.name,
      pauseKind: driver.pauseKind,
    }),
  );
  const envdServer = createServer(
    createEnvdHandler({
      directory: manager,
      faults,
      onRequest: (route, status) => metrics.envdRequests.inc({ route, code: String(status) }),
    }),
  );
  envdServer.keepAliveTimeout = 65_000;
  apiServer.keepAliveTimeout = 65_000;
  let apiUrl: string;
  let sandboxUrl: string;
  try {
    apiUrl = await listen(apiServer, opts.listen ?? '127.0.0.1:0');
    sandboxUrl = await listen(envdServer, opts.envdListen ?? '127.0.0.1:0');
    // Loopback addresses are out of sandboxes' reach anyway; any other one is reachable at the gateway.
    const exposed = [apiUrl, sandboxUrl].map((u) => new URL(u)).filter((u) => !/^(127\.|\[::1\])/.test(u.hostname));
    await network?.protectPorts(exposed.map((u) => Number(u.port)));
  } catch (err) {
    await Promise.all([closeServer(apiServer), closeServer(envdServer)]);
    await network?.stop();
    throw err;
  }

  const cleanupFiles = () => {
    if (cgroups) removeParentSync(cgroups);
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  let stopped = false;
  const signalHandler = (sig: NodeJS.Signals) => {
    stopAllLocalRuntimesSync();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  const runtime: LocalRuntime = {
    apiUrl,
    sandboxUrl,
    apiKey,
    adminToken,
    metricsUrl: `${apiUrl}/metrics`,
    driver: driver.name,
    pauseKind: driver.pauseKind,
    envdVersion: ENVD_VERSION,
    dataDir,
    cgroupDirs: cgroups?.parentDirs() ?? [],
    network: { mode: networkMode, bridge: network?.bridge, subnet: network?.subnet, gateway: network?.gateway },
    async stop() {
      if (stopped) return;
      stopped = true;
      live.delete(runtime);
      if (opts.handleSignals) {
        process.off('SIGTERM', signalHandler);
        process.off('SIGINT', signalHandler);
      }
      await manager.stop();
      await builds.stop();
      await templates.close?.();
      await network?.stop();
      await Promise.all([closeServer(apiServer), closeServer(envdServer)]);
      if (stock instanceof HostTemplateProvider) await stock.clear();
      cleanupFiles();
    },
    stopSync() {
      if (stopped) return;
      stopped = true;
      live.delete(runtime);
      manager.stopSync();
      builds.removeAllSync();
      templates.closeSync?.();
      network?.stopSync();
      apiServer.closeAllConnections();
      envdServer.closeAllConnections();
      apiServer.close();
      envdServer.close();
      cleanupFiles();
    },
  };
  live.add(runtime);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', stopAllLocalRuntimesSync);
  }
  if (opts.handleSignals) {
    process.once('SIGTERM', signalHandler);
    process.once('SIGINT', signalHandler);
  }
  // Fill the warm pool of the default template in the background.
  if (poolSize(defaultTemplate) > 0) void manager.pool.refill(defaultTemplate);
  log(
    `local runtime: api ${apiUrl}, envd ${sandboxUrl}, driver ${driver.name}${limits ? '' : ', CPU and memory limits off'}, network ${network ? `isolated (bridge ${network.bridge}, gateway ${network.gateway})` : networkMode}`,
  );
  return runtime;
}
