import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Sandbox } from 'e2b';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseCgroupMounts } from '../../src/local/driver/cgroup-parse.js';
import { parseOwnerName } from '../../src/local/driver/net-plan.js';
import { startLocalRuntime } from '../../src/local/index.js';
import { startExporter } from '../helpers/exporter.js';
import { portOpen } from '../helpers/processes.js';
import { SANDBOX_TEST_TIMEOUT_MS } from '../helpers/timeouts.js';
import { canRunSandboxes, startFixture, type RuntimeFixture } from './helpers.js';
import { bridgePorts, networkLeftovers } from './net-leftovers.js';

// The isolated network of the namespace driver (the default), through the unmodified SDK. Traffic
// goes only to loopback, to the runtime's gateway address and to sandboxes' addresses on its bridge.

vi.setConfig({ testTimeout: SANDBOX_TEST_TIMEOUT_MS });

/** Python prelude for scripts run in a sandbox: `gateway()` is its default route's address. */
const GATEWAY_PY = `
import json, socket, struct, sys
def gateway():
    for line in open('/proc/net/route').read().splitlines()[1:]:
        f = line.split()
        if f[1] == '00000000':
            return socket.inet_ntoa(struct.pack('<L', int(f[2], 16)))
`;

/** Python run inside a sandbox: tries each HOST:PORT with an HTTP request, prints one outcome per target. */
const CONNECT = `${GATEWAY_PY}out = {}
for target in json.loads(sys.argv[1]):
    host, port = target.rsplit(':', 1)
    host = gateway() if host == 'GATEWAY' else host
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((host, int(port)))
        s.sendall(b'GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n')
        data = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        out[target] = 'ok ' + data.decode('latin-1')
    except socket.timeout:
        out[target] = 'timeout'
    except OSError as e:
        out[target] = 'error ' + (e.strerror or str(e))
    finally:
        s.close()
print(json.dumps(out))
`;

async function connectFrom(sbx: Sandbox, targets: string[]): Promise<Record<string, string>> {
  const r = await sbx.commands.run(`python3 -c "$PROBE" '${JSON.stringify(targets)}'`, {
    envs: { PROBE: CONNECT },
    timeoutMs: 60_000,
  });
  return JSON.parse(r.stdout) as Record<string, string>;
}

function serve(host: string, body: string): Promise<Server> {
  const server = createServer((_req, res) => res.end(body));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve(server));
  });
}

const portOf = (s: Server) => (s.address() as AddressInfo).port;
const close = (s: Server | undefined) =>
  new Promise<void>((r) => {
    if (!s) return r();
    s.closeAllConnections();
    s.close(() => r());
  });

interface StatusSandbox {
  sandboxID: string;
  network?: { address: string; hostInterface: string };
}

async function networkOf(f: RuntimeFixture, sandboxId: string): Promise<{ address: string; hostInterface: string }> {
  const status = (await (await f.admin('GET', '/admin/status')).json()) as { sandboxes: StatusSandbox[] };
  const n = status.sandboxes.find((s) => s.sandboxID === sandboxId)?.network;
  if (!n) throw new Error(`no network for ${sandboxId} in /admin/status`);
  return n;
}

/** What is left of one sandbox's network: its veth and its namespace name. */
function sandboxLeftovers(bridge: string, hostInterface: string): string[] {
  const index = hostInterface.slice(bridge.length);
  return networkLeftovers(bridge).filter((l) => l.includes(hostInterface) || l.endsWith(`-${index}`));
}

describe.skipIf(!canRunSandboxes)('local runtime: isolated sandbox network', () => {
  let f: RuntimeFixture;
  let onGateway: Server;
  let onLoopback: Server;
  const secret = randomBytes(48 * 1024).toString('hex');

  beforeAll(async () => {
    f = await startFixture({ maxSandboxes: 10 });
    expect(f.rt.network.mode).toBe('isolated');
    onGateway = await serve(f.rt.network.gateway!, secret);
    onLoopback = await serve('127.0.0.1', secret);
  });

  afterAll(async () => {
    await close(onGateway);
    await close(onLoopback);
    const bridge = f?.rt.network.bridge;
    await f?.stop();
    if (bridge) expect(networkLeftovers(bridge)).toEqual([]);
  });

  it('reaches the host only at the gateway: loopback services (control plane, envd, others) fail', async () => {
    const sbx = await f.create();
    const api = `127.0.0.1:${new URL(f.rt.apiUrl).port}`;
    const envd = `127.0.0.1:${new URL(f.rt.sandboxUrl).port}`;
    const loop = `127.0.0.1:${portOf(onLoopback)}`;
    const gw = `GATEWAY:${portOf(onGateway)}`;
    // The same ports answer on the host's loopback: there is something to reach.
    for (const t of [api, envd, loop]) expect(await portOpen(Number(t.split(':')[1]))).toBe(true);
    const out = await connectFrom(sbx, [api, envd, loop, `GATEWAY:${new URL(f.rt.apiUrl).port}`, gw]);
    expect(out[gw]).toMatch(/^ok HTTP\/1\.1 200/);
    expect(out[gw]).toContain(secret);
    for (const t of [api, envd, loop, `GATEWAY:${new URL(f.rt.apiUrl).port}`]) expect(out[t]).toMatch(/^error /);

    // The bytes it just received show in the runtime's per-sandbox counters (veth).
    const text = await (await fetch(f.rt.metricsUrl)).text();
    const m = new RegExp(
      `^e2blocal_sandbox_network_bytes_total\\{sandbox_id="${sbx.sandboxId}",direction="received"\\} (\\d+)$`,
      'm',
    ).exec(text);
    expect(Number(m?.[1])).toBeGreaterThan(secret.length);
    expect(text).toMatch(/^e2blocal_info\{.*network="isolated".*\} 1$/m);
  });

  it('keeps sandboxes apart: a server in one is reachable from the host, not from another sandbox', async () => {
    const [a, b] = await Promise.all([f.create(), f.create()]);
    const [na, nb] = await Promise.all([networkOf(f, a.sandboxId), networkOf(f, b.sandboxId)]);
    expect(na.address).not.toBe(nb.address);
    await b.commands.run('cd /tmp && echo hello-from-b > index.html && python3 -m http.server 8000', {
      background: true,
      timeoutMs: 0,
    });
    const deadline = Date.now() + 20_000;
    while (!(await portOpen(8000, nb.address)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    // Control: the host reaches it at the sandbox's address.
    expect(await (await fetch(`http://${nb.address}:8000/index.html`)).text()).toBe('hello-from-b\n');
    const out = await connectFrom(a, [`${nb.address}:8000`]);
    expect(out[`${nb.address}:8000`]).not.toMatch(/^ok/);
  });

  it('kill and crash leave no veth, bridge port or namespace of the sandbox behind', async () => {
    const bridge = f.rt.network.bridge!;
    const [killed, crashed] = await Promise.all([f.create(), f.create()]);
    const [nk, nc] = await Promise.all([networkOf(f, killed.sandboxId), networkOf(f, crashed.sandboxId)]);
    for (const n of [nk, nc]) {
      expect(bridgePorts(bridge)).toContain(n.hostInterface);
      expect(sandboxLeftovers(bridge, n.hostInterface).length).toBeGreaterThan(0);
    }
    await killed.kill();
    expect(sandboxLeftovers(bridge, nk.hostInterface)).toEqual([]);
    expect((await f.admin('POST', `/admin/sandboxes/${crashed.sandboxId}/crash`)).status).toBe(200);
    expect(sandboxLeftovers(bridge, nc.hostInterface)).toEqual([]);
    expect(bridgePorts(bridge)).not.toContain(nk.hostInterface);
    expect(bridgePorts(bridge)).not.toContain(nc.hostInterface);
  });
});

describe.skipIf(!canRunSandboxes)('local runtime listening on every address', () => {
  it('refuses sandboxes its own ports at the gateway (control plane, envd)', async () => {
    // Every address so the gateway path exists; traffic goes to loopback and the gateway only.
    const f = await startFixture({ listen: '0.0.0.0:0', envdListen: '0.0.0.0:0' });
    try {
      const api = Number(new URL(f.rt.apiUrl).port);
      const envd = Number(new URL(f.rt.sandboxUrl).port);
      // Control: they answer at the gateway address from the host.
      for (const port of [api, envd]) expect(await portOpen(port, f.rt.network.gateway!)).toBe(true);
      const sbx = await f.create();
      const out = await connectFrom(sbx, [`GATEWAY:${api}`, `GATEWAY:${envd}`]);
      expect(out[`GATEWAY:${api}`]).toMatch(/^error Connection refused/);
      expect(out[`GATEWAY:${envd}`]).toMatch(/^error Connection refused/);
    } finally {
      await f.stop();
    }
  });
});

type RuntimeInfo = { bridge: string; gateway: string; dataDir: string };

/** The cgroups (one per hierarchy) of the runtime run by process `pid`: named after that process. */
function runtimeGroups(pid: number): string[] {
  const layout = parseCgroupMounts(readFileSync('/proc/self/mounts', 'utf8'));
  const roots = layout.v2 !== undefined ? [layout.v2] : [...new Set(Object.values(layout.v1))];
  const out: string[] = [];
  for (const root of roots) {
    const shared = path.join(root, 'e2blocal');
    try {
      for (const n of readdirSync(shared)) if (parseOwnerName(n)?.pid === pid) out.push(path.join(shared, n));
    } catch {
      // nothing of ours in this hierarchy
    }
  }
  return out.sort();
}

function startRuntimeProcess(): { child: ChildProcess; info: Promise<RuntimeInfo> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures/net-runtime.ts')],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const info = new Promise<RuntimeInfo>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l) as RuntimeInfo));
    child.once('exit', (code) => reject(new Error(`runtime process exited early (${code})`)));
  });
  return { child, info };
}

describe.skipIf(!canRunSandboxes)('local runtime: sandbox network teardown when the runtime ends', () => {
  it('SIGTERM removes the bridge, its ports, the namespaces and the nft table', async () => {
    const { child, info } = startRuntimeProcess();
    try {
      const { bridge } = await info;
      const before = networkLeftovers(bridge);
      expect(before.filter((l) => l.startsWith('nft table'))).toHaveLength(1);
      expect(before.filter((l) => l.startsWith('netns')).length).toBeGreaterThanOrEqual(2);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
      expect(networkLeftovers(bridge)).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it("after SIGKILL, the next runtime's sweep removes the dead runtime's objects and cgroups, and no live runtime's", async () => {
    const alive = await startLocalRuntime({ templates: 'host' });
    const { child, info } = startRuntimeProcess();
    try {
      const { bridge } = await info;
      // A sandbox of the live runtime: its network objects and cgroup must survive the sweep.
      await Sandbox.create('base', { apiKey: alive.apiKey, apiUrl: alive.apiUrl, sandboxUrl: alive.sandboxUrl });
      const aliveBefore = networkLeftovers(alive.network.bridge!);
      expect(aliveBefore.length).toBeGreaterThan(3);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      // Nothing tore it down: everything is still there.
      expect(networkLeftovers(bridge).length).toBeGreaterThan(3);
      expect(runtimeGroups(child.pid!).length).toBeGreaterThan(0);
      const aliveGroups = runtimeGroups(process.pid);
      expect(aliveGroups.length).toBeGreaterThan(0);
      const next = await startLocalRuntime({ templates: 'host' });
      await next.stop();
      expect(networkLeftovers(bridge)).toEqual([]);
      expect(runtimeGroups(child.pid!)).toEqual([]);
      expect(networkLeftovers(alive.network.bridge!)).toEqual(aliveBefore);
      expect(runtimeGroups(process.pid)).toEqual(aliveGroups);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await alive.stop();
      // A SIGKILLed runtime cannot unmount its sandboxes' overlays: this test does, by its data dir.
      const dir = await info.then((i) => i.dataDir).catch(() => undefined);
      if (dir) {
        const mounts = readFileSync('/proc/mounts', 'utf8')
          .split('\n')
          .map((l) => l.split(' ')[1] ?? '');
        for (const m of mounts.filter((m) => m.startsWith(`${dir}/`)).reverse()) spawnSync('umount', ['-l', m]);
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});

describe.skipIf(!canRunSandboxes)(
  "exporter: loopback's trust is not reachable from its embedded runtime's sandboxes",
  () => {
    it('a sandbox reaches the exporter only through the gateway, as a non-loopback client (403)', async () => {
      // Listening on every address so the gateway path exists at all; traffic goes to loopback and the gateway only.
      const h = await startExporter(`
server: { listen: "0.0.0.0:0" }
enable_all_probes: false
local_runtime: { templates: host, pool_size: 0 }
targets:
  - { name: local, cloud_provider: local, template: base }
`);
      try {
        const port = Number(h.exp.address!.split(':').pop());
        const e2b = h.exp.targets[0]!.e2b!;
        const { Sandbox } = await import('e2b');
        const sbx = await Sandbox.create('base', {
          apiKey: e2b.api_key,
          apiUrl: e2b.api_url,
          sandboxUrl: e2b.sandbox_url,
        });
        try {
          // Control: a real loopback client may act without a token.
          expect((await fetch(`http://127.0.0.1:${port}/-/reload`, { method: 'POST' })).status).toBe(200);
          const reload = `${GATEWAY_PY}out = {}
for host in ['127.0.0.1', gateway()]:
    s = socket.socket(); s.settimeout(3)
    try:
        s.connect((host, ${port}))
        s.sendall(b'POST /-/reload HTTP/1.0\\r\\nHost: x\\r\\nContent-Length: 0\\r\\n\\r\\n')
        out[host == '127.0.0.1' and 'loopback' or 'gateway'] = s.recv(200).decode().split('\\r\\n')[0]
    except OSError as e:
        out[host == '127.0.0.1' and 'loopback' or 'gateway'] = 'error ' + (e.strerror or str(e))
print(json.dumps(out))
`;
          const r = await sbx.commands.run(`python3 -c "$PROBE"`, { envs: { PROBE: reload }, timeoutMs: 60_000 });
          const out = JSON.parse(r.stdout) as { loopback: string; gateway: string };
          expect(out.loopback).toMatch(/^error /);
          expect(out.gateway).toBe('HTTP/1.1 403 Forbidden');
        } finally {
          await sbx.kill();
        }
      } finally {
        await h.stop();
      }
    });
  },
);

describe.skipIf(!canRunSandboxes)('local runtime: outbound NAT only when configured', () => {
  it('forwards and masquerades for the bridge alone with networkOutbound, not by default', async () => {
    const table = (bridge: string) => {
      const name = networkLeftovers(bridge)
        .find((l) => l.startsWith('nft table '))!
        .slice('nft table '.length);
      return execFileSync('nft', ['list', 'table', 'inet', name], { encoding: 'utf8' });
    };
    const forwarding = (bridge: string) => readFileSync(`/proc/sys/net/ipv4/conf/${bridge}/forwarding`, 'utf8').trim();
    const [plain, nat] = await Promise.all([
      startLocalRuntime({ templates: 'host' }),
      startLocalRuntime({ templates: 'host', networkOutbound: true }),
    ]);
    try {
      expect(forwarding(plain.network.bridge!)).toBe('0');
      expect(table(plain.network.bridge!)).not.toMatch(/masquerade/);
      expect(forwarding(nat.network.bridge!)).toBe('1');
      expect(table(nat.network.bridge!)).toMatch(
        new RegExp(`ip saddr ${nat.network.subnet!.replace(/\./g, '\\.')} .*masquerade`),
      );
      // Each runtime has a /24 of its own.
      expect(plain.network.subnet).not.toBe(nat.network.subnet);
    } finally {
      await Promise.all([plain.stop(), nat.stop()]);
    }
    expect(networkLeftovers(nat.network.bridge!)).toEqual([]);
  });
});
