import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExporter } from '../helpers/exporter.js';

// Distinctive secret values, none with a prefix a pattern could recognise: only masking by value
// can hide them. Each comes from the environment, the way a deployment passes credentials.
const SECRETS = {
  SWEEP_AUTH_TOKEN: 'sweepAuth-7f3a91c2',
  SWEEP_API_KEY: 'sweepApiKey-c41d8e77',
  SWEEP_ADMIN_TOKEN: 'sweepAdmin-92be07d4',
  SWEEP_S3_SECRET: 'sweepS3Secret-5d1f0b',
  SWEEP_AZURE_KEY: 'c3dlZXBBenVyZUtleTBhN2M=',
};

/** Header values the echo server was sent (to show the secrets did reach printable error bodies). */
const received = new Set<string>();

/** A service that fails every request and echoes the request headers in its error body. */
function startEchoServer(): Promise<Server> {
  const srv = createServer((req, res) => {
    req.resume();
    for (const v of Object.values(req.headers)) received.add(String(v));
    const headers = JSON.stringify(req.headers);
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 500, message: `refused, you sent ${headers}` }));
  });
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv)));
}

const config = (echo: string, extra = '') => `
server: { listen: "127.0.0.1:0", auth_token: "\${SWEEP_AUTH_TOKEN}" }
enable_all_probes: false
targets:
  - name: echo
    cloud_provider: aws
    e2b: { api_url: "${echo}", sandbox_url: "${echo}", api_key: "\${SWEEP_API_KEY}", admin_token: "\${SWEEP_ADMIN_TOKEN}" }
    storage: { kind: s3, bucket: b, region: us-east-1, endpoint: "${echo}", force_path_style: true, access_key_id: sweepid, secret_access_key: "\${SWEEP_S3_SECRET}" }
  - name: echo-azure
    cloud_provider: azure
    e2b: { api_url: "${echo}", sandbox_url: "${echo}", api_key: "\${SWEEP_API_KEY}" }
    storage: { kind: azure, bucket: b, endpoint: "${echo}", account_name: sweep, account_key: "\${SWEEP_AZURE_KEY}" }
${extra}
probes:
  lifecycle.ops: { samples: 1 }
  storage.latency: { sample_gap: 0s }
`;

describe('no secret value is ever printed', () => {
  let echo: Server;
  let echoUrl: string;
  const logs: string[] = [];
  let h: Awaited<ReturnType<typeof startExporter>>;

  beforeAll(async () => {
    Object.assign(process.env, SECRETS);
    echo = await startEchoServer();
    echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    h = await startExporter(config(echoUrl), { logs });
  });

  afterAll(async () => {
    await h?.stop();
    await new Promise((r) => echo?.close(r));
    for (const k of Object.keys(SECRETS)) delete process.env[k];
  });

  it('not in /metrics, /, /api/runs, run records, reload bodies or logs, after failing runs and reloads', async () => {
    const auth = { authorization: `Bearer ${SECRETS.SWEEP_AUTH_TOKEN}` };
    const printed: [string, string][] = [];
    const keep = (where: string, text: string) => printed.push([where, text]);

    // Failing runs against a service that echoes our headers (API key, access tokens, signatures).
    for (const [probe, target] of [
      ['lifecycle.ops', 'echo'],
      ['storage.latency', 'echo'],
      ['storage.latency', 'echo-azure'],
    ]) {
      const run = await h.run(probe, target);
      expect(run.success, `${probe}@${target} should fail against the echo server`).toBe(false);
      keep(`run record ${probe}@${target}`, JSON.stringify(run));
    }
    const debug = await fetch(`${h.url}/probe/lifecycle.ops?target=echo&debug=true`, { method: 'POST', headers: auth });
    keep('POST /probe?debug=true', await debug.text());

    // A reload with a secret interpolated into the wrong field: refused, the error names the path.
    writeFileSync(
      h.cfg.file,
      config(echoUrl).replace(
        'cloud_provider: aws\n',
        'cloud_provider: aws\n    pricing: { hourly_usd: "${SWEEP_API_KEY}" }\n',
      ),
    );
    const reload = await fetch(`${h.url}/-/reload`, { method: 'POST', headers: auth });
    expect(reload.status).toBe(400);
    const reloadBody = await reload.text();
    expect(reloadBody).toMatch(/targets\[0\]\.pricing\.hourly_usd/);
    keep('POST /-/reload', reloadBody);

    keep('/metrics', await (await fetch(`${h.url}/metrics`)).text());
    keep(
      '/metrics (OpenMetrics)',
      await (await fetch(`${h.url}/metrics`, { headers: { accept: 'application/openmetrics-text' } })).text(),
    );
    keep('/', await (await fetch(`${h.url}/`)).text());
    const runs = await (await fetch(`${h.url}/api/runs`)).text();
    keep('/api/runs', runs);
    for (const { id } of (JSON.parse(runs) as { runs: { id: string }[] }).runs)
      keep(`/api/runs/${id}`, await (await fetch(`${h.url}/api/runs/${id}`)).text());
    keep('logs', logs.join('\n'));

    // The echo server was sent the API key, and echoed it into error bodies that had to be hidden.
    expect(received.has(SECRETS.SWEEP_API_KEY)).toBe(true);
    const leaks = printed.flatMap(([where, text]) =>
      Object.entries(SECRETS)
        .filter(([, v]) => text.includes(v))
        .map(([name]) => `${name} in ${where}`),
    );
    expect(leaks).toEqual([]);
  });
});
