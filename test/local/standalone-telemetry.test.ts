import { Sandbox } from 'e2b';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tracing } from '../../exporters/otel/tracing.js';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { freePort, startProcess, waitFor, type Proc } from '../helpers/processes.js';
import { canRunSandboxes } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

// `e2b-bench local-runtime` on its own (as in docker-compose), exporting to an OTLP receiver on
// loopback given by OTEL_EXPORTER_OTLP_ENDPOINT; the client side is this process, with the
// exporter's own tracing (service e2b-bench) and the unmodified SDK.
describe.skipIf(!canRunSandboxes)('standalone local runtime telemetry', () => {
  const receiver = new OtlpReceiver();
  let proc: Proc | undefined;
  let dataDir: string;
  let conn: { apiKey: string; apiUrl: string; sandboxUrl: string };
  let endpoint: string;

  beforeAll(async () => {
    endpoint = await receiver.start();
    const [api, envd] = [await freePort(), await freePort()];
    dataDir = mkdtempSync(join(tmpdir(), 'e2b-otel-rt-'));
    conn = {
      apiKey: `e2b_${'0123456789abcdef'.repeat(2)}01234567`,
      apiUrl: `http://127.0.0.1:${api}`,
      sandboxUrl: `http://127.0.0.1:${envd}`,
    };
    proc = startProcess(
      'local-runtime',
      process.execPath,
      [
        join(ROOT, 'bin', 'e2b-bench.js'),
        'local-runtime',
        ...['--listen', `127.0.0.1:${api}`, '--envd-listen', `127.0.0.1:${envd}`, '--api-key', conn.apiKey],
        ...['--templates', 'host', '--pool-size', '0', '--data-dir', dataDir],
      ],
      { env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } },
    );
    await waitFor('the runtime', async () => (await fetch(`${conn.apiUrl}/health`)).ok, proc, 60_000);
  }, 90_000);

  afterAll(async () => {
    await proc?.stop();
    await receiver.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("exports its server spans as e2b-local-runtime, children of the caller's spans", async () => {
    const client = new Tracing({ serviceName: 'e2b-bench', otlpEndpoint: endpoint, version: 'test' });
    const traceId = await client.tracer.startActiveSpan('probe telemetry', async (root) => {
      const sb = await Sandbox.create(conn);
      await sb.commands.run('true');
      await sb.kill();
      root.end();
      return root.spanContext().traceId;
    });
    await client.shutdown();
    // SIGTERM: the runtime kills its sandboxes and flushes its spans before exiting.
    await proc!.stop();
    const inTrace = receiver.spans.filter((s) => s.traceId === traceId);
    const services = new Set(inTrace.map((s) => s.service));
    expect(services).toEqual(new Set(['e2b-bench', 'e2b-local-runtime']));
    const create = inTrace.find((s) => s.service === 'e2b-local-runtime' && s.name === 'sandbox.create');
    expect(create).toBeDefined();
    // Continued from the SDK's HTTP client span, not a new trace.
    const parent = inTrace.find((s) => s.spanId === create!.parentSpanId);
    expect(parent?.service).toBe('e2b-bench');
    expect(inTrace.some((s) => s.service === 'e2b-local-runtime' && s.parentSpanId === create!.spanId)).toBe(true);
  });
});
