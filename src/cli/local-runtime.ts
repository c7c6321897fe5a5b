import { parse, UsageError } from './args.js';

const HELP = `Usage: e2b-bench local-runtime [--listen HOST:PORT] [--envd-listen HOST:PORT] [--api-key KEY]
                               [--admin-token TOKEN] [--driver namespace|gvisor] [--pool-size N]
                               [--max-sandboxes N] [--data-dir DIR] [--network isolated|none|host]
                               [--network-subnet CIDR] [--network-outbound] [--no-limits]
                               [--templates store|host] [--otlp-endpoint URL]

Runs the local E2B-compatible runtime on its own (needs root: namespaces, mounts, cgroups) and
prints the URLs to give the e2b SDK as apiUrl and sandboxUrl. SIGTERM / SIGINT kill every sandbox.

  --listen HOST:PORT        control-plane API (default 127.0.0.1:3000)
  --envd-listen HOST:PORT   envd API for all sandboxes (default 127.0.0.1:49983)
  --api-key KEY             key clients send as X-API-KEY (default: random, printed)
  --admin-token TOKEN       bearer token of /admin (default: random, printed)
  --driver NAME             namespace (default) or gvisor
  --pool-size N             pre-started sandboxes of the default template (warm starts), default 2
  --max-sandboxes N         beyond it create answers 429, default 50
  --data-dir DIR            sandboxes, snapshots (default: a temporary directory)
  --network MODE            isolated (default): each sandbox in its own network namespace, the host
                            reachable only at the gateway address printed at start, other sandboxes
                            not at all; none: loopback only; host: the host's network including its
                            loopback services (UNSAFE: any code in a sandbox can reach them)
  --network-subnet CIDR     block the runtime's /24 is taken from (default 169.254.0.0/16)
  --network-outbound        NAT isolated sandboxes' traffic to the machine's networks (default off)
  --no-limits               no per-sandbox CPU quota or memory limit (to measure what they buy)
  --templates SOURCE        store (the built template) or host (host-derived development
                            templates); default: store when built, else host
  --otlp-endpoint URL       export server spans over OTLP/HTTP (service.name e2b-local-runtime),
                            continuing each caller's traceparent; default $OTEL_EXPORTER_OTLP_ENDPOINT`;

function positiveInt(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}`);
  return n;
}

export async function cmdLocalRuntime(argv: string[]): Promise<number> {
  const { values } = parse(
    argv,
    {
      listen: { type: 'string' },
      'envd-listen': { type: 'string' },
      'api-key': { type: 'string' },
      'admin-token': { type: 'string' },
      driver: { type: 'string' },
      'pool-size': { type: 'string' },
      'max-sandboxes': { type: 'string' },
      'data-dir': { type: 'string' },
      network: { type: 'string' },
      'network-subnet': { type: 'string' },
      'network-outbound': { type: 'boolean' },
      'no-limits': { type: 'boolean' },
      'otlp-endpoint': { type: 'string' },
      templates: { type: 'string' },
    },
    false,
  );
  if (values.help) return (process.stdout.write(HELP + '\n'), 0);
  if (values.driver && values.driver !== 'namespace' && values.driver !== 'gvisor')
    throw new UsageError('--driver must be namespace or gvisor');
  if (values.network && !['isolated', 'none', 'host'].includes(values.network))
    throw new UsageError('--network must be isolated, none or host');
  if (values.templates && values.templates !== 'store' && values.templates !== 'host')
    throw new UsageError('--templates must be store or host');
  const otlpEndpoint = values['otlp-endpoint'] ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (otlpEndpoint !== undefined && !/^https?:\/\//.test(otlpEndpoint))
    throw new UsageError('--otlp-endpoint must be an http(s) URL');
  // Standalone, the runtime is its own service in traces: its spans go to the OTLP endpoint under
  // their own service name, children of the callers' spans.
  const { Tracing } = await import('../../exporters/otel/tracing.js');
  const { BUILD_INFO } = await import('../app/build-info.js');
  const tracing = new Tracing({ serviceName: 'e2b-local-runtime', otlpEndpoint, version: BUILD_INFO.version });
  const { startLocalRuntime } = await import('../local/index.js');
  const rt = await startLocalRuntime({
    tracerProvider: tracing.provider,
    listen: values.listen ?? '127.0.0.1:3000',
    envdListen: values['envd-listen'] ?? '127.0.0.1:49983',
    apiKey: values['api-key'],
    adminToken: values['admin-token'],
    driver: values.driver as 'namespace' | 'gvisor' | undefined,
    poolSize: positiveInt('pool-size', values['pool-size']) ?? 2,
    maxSandboxes: positiveInt('max-sandboxes', values['max-sandboxes'], 1),
    dataDir: values['data-dir'],
    network: values.network as 'isolated' | 'none' | 'host' | undefined,
    networkSubnet: values['network-subnet'],
    networkOutbound: values['network-outbound'] === true,
    limits: values['no-limits'] !== true,
    templates: values.templates as 'store' | 'host' | undefined,
    log: (m) => process.stderr.write(`${new Date().toISOString()} ${m}\n`),
  });
  process.stdout.write(
    JSON.stringify({
      apiUrl: rt.apiUrl,
      sandboxUrl: rt.sandboxUrl,
      apiKey: rt.apiKey,
      adminToken: rt.adminToken,
      metricsUrl: rt.metricsUrl,
      driver: rt.driver,
      otlpEndpoint: tracing.endpoint ?? null,
      network: rt.network,
    }) + '\n',
  );
  process.stderr.write(
    `local runtime ready: apiUrl ${rt.apiUrl}  sandboxUrl ${rt.sandboxUrl}  driver ${rt.driver}  network ${rt.network.mode}${rt.network.gateway ? ` (gateway ${rt.network.gateway})` : ''}\n`,
  );
  if (rt.network.mode === 'host')
    process.stderr.write(
      'warning: --network host lets code in sandboxes reach every loopback service of this machine\n',
    );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await rt.stop();
    await tracing.shutdown();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  return new Promise<number>(() => undefined);
}
