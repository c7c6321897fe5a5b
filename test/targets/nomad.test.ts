import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TargetSchema } from '../../src/config/schema.js';
import { NomadClient, type NomadAllocation } from '../../src/targets/nomad.js';
import { servicesOf } from '../../src/targets/services.js';

// No Nomad runs here: this is a local HTTP server answering the few endpoints the client uses,
// with the response shapes of Nomad's HTTP API (allocations, client allocation restart, nodes).
function fakeNomad(token: string) {
  const restarted = new Map<string, number>();
  const allocs: NomadAllocation[] = [
    {
      ID: 'a1',
      NodeID: 'n1',
      ClientStatus: 'running',
      DesiredStatus: 'run',
      TaskStates: { orch: { State: 'running', StartedAt: new Date(0).toISOString() } },
    },
    {
      ID: 'a2',
      NodeID: 'n2',
      ClientStatus: 'running',
      DesiredStatus: 'run',
      TaskStates: { orch: { State: 'running', StartedAt: new Date(0).toISOString() } },
    },
    { ID: 'old', NodeID: 'n1', ClientStatus: 'complete', DesiredStatus: 'stop' },
  ];
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.headers['x-nomad-token'] !== token) return void res.writeHead(403).end('Permission denied');
    const url = new URL(req.url!, 'http://x');
    let m: RegExpExecArray | null;
    if (req.method === 'GET' && url.pathname === '/v1/job/orchestrator/allocations') {
      const now = Date.now();
      // A restarted allocation reports pending for 150 ms, then running with a new LastRestart.
      const view = allocs.map((a) => {
        const r = restarted.get(a.ID);
        if (r === undefined) return a;
        if (now - r < 150) return { ...a, ClientStatus: 'pending', TaskStates: { orch: { State: 'pending' } } };
        return { ...a, TaskStates: { orch: { State: 'running', LastRestart: new Date(r + 150).toISOString() } } };
      });
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(view));
    }
    if (req.method === 'POST' && (m = /^\/v1\/client\/allocation\/([^/]+)\/restart$/.exec(url.pathname))) {
      restarted.set(m[1], Date.now());
      return void res.writeHead(200).end('{}');
    }
    if (req.method === 'GET' && url.pathname === '/v1/nodes')
      return void res.writeHead(200).end(JSON.stringify([{ ID: 'n1', Name: 'node-1', Status: 'ready' }]));
    res.writeHead(404).end('not found');
  });
  return { server, restarted, seen };
}

describe('Nomad client', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  async function start(token = 'tok') {
    const f = fakeNomad(token);
    server = f.server;
    await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
    const addr = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
    return { ...f, addr };
  }

  it('restarts every running allocation of the job and waits until they run again', async () => {
    const f = await start();
    const c = new NomadClient({ addr: f.addr, token: 'tok', namespace: 'default' });
    const ids = await c.restartJob('orchestrator', { timeoutMs: 5000, pollMs: 50 });
    expect(ids.sort()).toEqual(['a1', 'a2']);
    expect([...f.restarted.keys()].sort()).toEqual(['a1', 'a2']);
    expect(f.seen.some((s) => s.includes('namespace=default'))).toBe(true);
  });

  it('fails with the HTTP status on a bad token', async () => {
    const f = await start('right');
    const c = new NomadClient({ addr: f.addr, token: 'wrong' });
    await expect(c.restartJob('orchestrator', { timeoutMs: 1000 })).rejects.toThrow(/HTTP 403/);
  });

  it('times out when allocations never come back', async () => {
    const f = await start();
    const c = new NomadClient({ addr: f.addr, token: 'tok' });
    await expect(c.restartJob('orchestrator', { timeoutMs: 100, pollMs: 20 })).rejects.toThrow(/not healthy/);
    expect((await c.nodes()).map((n) => n.Name)).toEqual(['node-1']);
  });

  it("a target's services: its Nomad client carries the configured token, namespace and region", async () => {
    const f = await start();
    const target = TargetSchema.parse({
      name: 'n',
      cloud_provider: 'aws',
      template: 'base',
      e2b: { domain: 'e2b.example' },
      nomad: { addr: f.addr, token: 'tok', namespace: 'ns1', region: 'r1', job: 'orchestrator' },
    });
    const s = servicesOf(target);
    expect(s.admin).toBeUndefined(); // an E2B cloud target has no local runtime admin API
    expect(s.controlPlane).toBeDefined();
    expect(s.nomad?.job).toBe('orchestrator');
    expect((await s.nomad!.client.nodes()).map((n) => n.Name)).toEqual(['node-1']);
    expect(f.seen).toEqual(['GET /v1/nodes?namespace=ns1&region=r1']);
  });
});
