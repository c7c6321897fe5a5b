/**
 * Host probes describe the machine the exporter runs on: one run per interval whatever the number
 * of targets, labelled with the machine's identity (server.host, or a cloud metadata service — here
 * a stand-in on loopback; no real metadata address is contacted), never with a target's cloud.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_PROBES } from '../../probes/index.js';
import { buildConfig } from '../../src/config/load.js';
import { detectMachine, machineIdentity } from '../../src/targets/machine.js';
import { readMetadata } from '../../src/targets/metadata.js';
import { startExporter } from '../helpers/exporter.js';
import { freePort } from '../helpers/processes.js';
import { sampleValue, sleep } from '../helpers/fake-probes.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function standIn(handler: Handler): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}

/** What each cloud's metadata service answers, with the headers it insists on. */
const CLOUDS: Record<string, Handler> = {
  aws: (req, res) => {
    if (req.method === 'PUT' && req.url === '/latest/api/token') return res.end('tok');
    if (req.headers['x-aws-ec2-metadata-token'] !== 'tok') return res.writeHead(401).end();
    const answers: Record<string, string> = {
      '/latest/meta-data/instance-type': 'm7i.2xlarge',
      '/latest/meta-data/placement/region': 'eu-central-1',
    };
    return answers[req.url!] ? res.end(answers[req.url!]) : res.writeHead(404).end();
  },
  gcp: (req, res) => {
    if (req.headers['metadata-flavor'] !== 'Google') return res.writeHead(403).end();
    const answers: Record<string, string> = {
      '/computeMetadata/v1/instance/machine-type': 'projects/42/machineTypes/n2-standard-8',
      '/computeMetadata/v1/instance/zone': 'projects/42/zones/europe-west4-b',
    };
    return answers[req.url!] ? res.end(answers[req.url!]) : res.writeHead(404).end();
  },
  azure: (req, res) => {
    if (req.headers.metadata !== 'true' || !req.url!.startsWith('/metadata/instance/compute?'))
      return res.writeHead(400).end();
    res.end(JSON.stringify({ location: 'westeurope', vmSize: 'Standard_D8s_v5', name: 'vm1' }));
  },
};

describe('machine identity', () => {
  it('reads each cloud metadata service (stand-ins on loopback)', async () => {
    const expected = {
      aws: { cloud_provider: 'aws', cloud_region: 'eu-central-1', instance_type: 'm7i.2xlarge' },
      gcp: { cloud_provider: 'gcp', cloud_region: 'europe-west4', instance_type: 'n2-standard-8' },
      azure: { cloud_provider: 'azure', cloud_region: 'westeurope', instance_type: 'Standard_D8s_v5' },
    } as const;
    for (const kind of ['aws', 'gcp', 'azure'] as const) {
      const url = await standIn(CLOUDS[kind]);
      expect(await readMetadata({ kind, url, timeout: 2000 }), kind).toEqual(expected[kind]);
    }
  });

  it('server.host wins over metadata, metadata over the host: self target; a silent service leaves unknown', async () => {
    const url = await standIn(CLOUDS.aws);
    const doc = (host: Record<string, unknown>) => ({
      server: { host },
      targets: [
        {
          name: 'prod',
          cloud_provider: 'gcp',
          cloud_region: 'us-central1',
          host: 'self',
          e2b: { domain: 'x.example' },
        },
      ],
    });
    const cfg = (host: Record<string, unknown>) => buildConfig(doc(host), ALL_PROBES, { env: {} });
    expect(await detectMachine(cfg({ name: 'n1', cloud_region: 'mine', metadata: { kind: 'aws', url } }))).toEqual({
      host: 'n1',
      cloud_provider: 'aws',
      cloud_region: 'mine',
      instance_type: 'm7i.2xlarge',
      source: 'config',
    });
    // Nothing configured or detected: the declared target's cloud (the user said this machine is one of its nodes).
    expect(machineIdentity({ name: 'n1' }, cfg({}).targets)).toMatchObject({
      cloud_provider: 'gcp',
      cloud_region: 'us-central1',
      instance_type: 'unknown',
      source: 'target',
    });
    const closed = `http://127.0.0.1:${await freePort()}`;
    const logs: string[] = [];
    const silent = buildConfig(
      { server: { host: { name: 'n1', metadata: { kind: 'gcp', url: closed } } } },
      ALL_PROBES,
      {
        env: {},
      },
    );
    expect(await detectMachine(silent, (l) => logs.push(l))).toEqual({
      host: 'n1',
      cloud_provider: 'unknown',
      cloud_region: 'unknown',
      instance_type: 'unknown',
      source: 'unknown',
    });
    expect(logs.join('\n')).toMatch(/server\.host\.metadata: no answer from the gcp metadata service/);
  });
});

describe('host probes run once per machine', () => {
  const config = (selfOn?: string) => {
    const closed = 'http://127.0.0.1:9';
    const target = (name: string, cloud: string, region: string) =>
      `  - { name: ${name}, cloud_provider: ${cloud}, cloud_region: ${region}, e2b: { api_url: "${closed}", sandbox_url: "${closed}", api_key: k }${selfOn === name ? ', host: self' : ''} }\n`;
    return (
      `server: { listen: "127.0.0.1:0", host: { name: bench-node-1, cloud_provider: aws, cloud_region: eu-west-1, instance_type: m7i.large } }\n` +
      `scheduler: { max_start_offset: 0s, jitter_ratio: 0 }\n` +
      `enable_all_probes: false\n` +
      `targets:\n${target('gcp-prod', 'gcp', 'us-central1')}${target('azure-eu', 'azure', 'westeurope')}` +
      `probes:\n  host.cpu: { interval: 8s, timeout: 8s, time: 1s, max_prime: 2000, threads: [1] }\n`
    );
  };

  it('with two targets: one job, one run per interval, series labelled with the machine and no target', async () => {
    const h = await startExporter(config(), { schedule: true });
    stops.push(() => h.stop());
    const t0 = Date.now();
    const jobs = h.exp.scheduler.status().filter((j) => j.probe === 'host.cpu');
    expect(jobs.map((j) => j.target)).toEqual(['bench-node-1']);
    await sleep(12_000);
    const runs = h.exp.store.list({ probe: 'host.cpu' });
    const elapsed = Date.now() - t0;
    expect(runs.length).toBeGreaterThanOrEqual(1);
    // Per target it would be twice this.
    expect(runs.length).toBeLessThanOrEqual(Math.ceil(elapsed / 8000));
    expect(new Set(runs.map((r) => r.target))).toEqual(new Set(['bench-node-1']));

    const body = await (await fetch(`${h.url}/metrics`)).text();
    const host = body.split('\n').filter((l) => l.startsWith('e2bbench_cpu_events_per_second{'));
    expect(host.length).toBeGreaterThan(0);
    for (const line of host) {
      expect(line).toContain('host="bench-node-1"');
      expect(line).toContain('cloud_provider="aws"');
      expect(line).toContain('cloud_region="eu-west-1"');
      expect(line).not.toMatch(/target=|gcp|azure/);
    }
    expect(
      sampleValue(body, 'e2bbench_machine_info', {
        host: 'bench-node-1',
        cloud_provider: 'aws',
        instance_type: 'm7i.large',
        source: 'config',
      }),
    ).toBe(1);
  }, 30_000);

  it('targets[].host: self places the host figures under that target only', async () => {
    const h = await startExporter(config('azure-eu'));
    stops.push(() => h.stop());
    const run = await h.run('host.cpu');
    expect(run.success, run.message).toBe(true);
    expect(run.target).toBe('azure-eu');
    const body = await (await fetch(`${h.url}/metrics`)).text();
    const host = body.split('\n').filter((l) => l.startsWith('e2bbench_cpu_events_per_second{'));
    expect(host.length).toBeGreaterThan(0);
    for (const line of host) {
      expect(line).toContain('target="azure-eu"');
      expect(line).toContain('host="bench-node-1"');
      // The machine's cloud, as configured, not the target's.
      expect(line).toContain('cloud_provider="aws"');
      expect(line).not.toContain('gcp-prod');
    }
  }, 30_000);
});
