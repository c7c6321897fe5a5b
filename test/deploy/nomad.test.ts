/**
 * The Nomad jobs in deploy/nomad/, checked structurally. The Nomad binary is not available here
 * (it is not in the npm registry nor in Debian), so `nomad job validate` cannot run: the files are
 * parsed by HashiCorp's own HCL2 parser (hcl2json, compiled to WebAssembly, from npm), the
 * variables their defaults give are filled in, and the configuration each job renders for the
 * exporter is validated by the exporter's own config loader.
 */
import { parse as parseHcl } from '@cdktf/hcl2json';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ALL_PROBES } from '../../probes/index.js';
import { buildConfig, parseConfigText } from '../../src/config/load.js';
import { configuredPairs } from '../../src/dispatch/pairs.js';
import { machineIdentity, machineTarget } from '../../src/targets/machine.js';

const DIR = join(import.meta.dirname, '../../deploy/nomad');

type Block = Record<string, any>;
interface JobFile {
  job: Record<string, Block[]>;
  variable: Record<string, { default?: unknown; type?: string }[]>;
}

async function load(file: string): Promise<{ name: string; job: Block; vars: Record<string, unknown> }> {
  const doc = (await parseHcl(file, readFileSync(join(DIR, file), 'utf8'))) as JobFile;
  const names = Object.keys(doc.job);
  expect(names).toHaveLength(1);
  const vars = Object.fromEntries(Object.entries(doc.variable ?? {}).map(([k, v]) => [k, v[0].default]));
  return { name: names[0], job: doc.job[names[0]][0], vars };
}

/**
 * Renders what Nomad would: HCL's `${var.x}` and `%{ if var.x != "" }...%{ endif }` from the
 * variables, `$${` as a literal `${` (left for the exporter's own interpolation).
 */
function render(text: string, vars: Record<string, unknown>): string {
  return text
    .replace(/%\{~?\s*if var\.(\w+) != ""\s*~?\}([\s\S]*?)%\{~?\s*endif\s*~?\}/g, (_m, v: string, body: string) =>
      vars[v] !== '' ? body : '',
    )
    .replace(/(?<!\$)\$\{var\.(\w+)\}/g, (_m, v: string) => {
      expect(vars, `variable ${v} is declared`).toHaveProperty(v);
      return String(vars[v]);
    })
    .replace(/\$\$\{/g, '${');
}

const only = <T>(blocks: T[] | undefined, what: string): T => {
  expect(blocks, what).toHaveLength(1);
  return blocks![0];
};
const single = (group: Block) => Object.values(group)[0][0] as Block;
const templateAt = (task: Block, dest: string) =>
  (task.template as Block[]).find((t) => t.destination === dest) as Block | undefined;

describe('deploy/nomad: host probes on every E2B client node (system job)', () => {
  it('is a system job on the client nodes, node pool and class constrained, raw host access', async () => {
    const { name, job, vars } = await load('e2b-bench-host.nomad.hcl');
    expect(name).toBe('e2b-bench-host');
    expect(job.type).toBe('system');
    expect(job.node_pool).toBe('${var.node_pool}');
    expect(job.datacenters).toBe('${var.datacenters}');
    expect(job.constraint).toContainEqual({ attribute: '${node.class}', value: '${var.node_class}' });
    expect(vars.node_class).toBe('client');
    const group = single(job.group);
    const task = single(group.task);
    // raw_exec: sysbench and fio on the node's own CPUs and disks.
    expect(task.driver).toBe('raw_exec');
    const service = only(group.service as Block[], 'service');
    expect(service.tags).toContain('prometheus');
    const check = only(service.check as Block[], 'check');
    expect(check).toMatchObject({ type: 'http', path: '/-/ready' });
    expect(only(group.network as Block[], 'network').port).toHaveProperty(service.port);
  });

  it('renders a host-probe-only config that labels the Nomad node, under the target when one is named', async () => {
    const { job, vars } = await load('e2b-bench-host.nomad.hcl');
    const task = single(single(job.group).task);
    const env = only(task.env as Block[], 'env');
    // The node's identity comes from Nomad's runtime interpolation into the exporter's server.host.
    expect(env.E2BBENCH_HOST_NAME).toBe('${node.unique.name}');
    const tpl = templateAt(task, 'local/e2b-bench.yml')!;
    expect(tpl.change_signal).toBe('SIGHUP');
    const nodeEnv = { E2BBENCH_HOST_NAME: 'client-7', E2BBENCH_INSTANCE: 'client-7/host' };

    for (const target of ['', 'aws-prod']) {
      const text = render(tpl.data as string, { ...vars, target });
      const cfg = parseConfigText(text, ALL_PROBES, { env: nodeEnv, source: 'e2b-bench-host.nomad.hcl' });
      expect(cfg.raw.server.host).toMatchObject({ name: 'client-7', metadata: { kind: vars.cloud } });
      const machine = machineTarget(machineIdentity(cfg.raw.server.host, cfg.targets), cfg.targets);
      const runs = configuredPairs(cfg, cfg.targets, machine).map((p) => p.pc);
      // No sandbox probes: only host probes run, on the node.
      expect(runs.length).toBeGreaterThan(0);
      expect(runs.every((pc) => pc.probe.family === 'host')).toBe(true);
      expect(cfg.targets.map((t) => t.name)).toEqual(target ? [target] : []);
      if (target) expect(cfg.targets[0].host).toBe('self');
    }
  });
});

describe('deploy/nomad: the exporter (service job)', () => {
  it('is a service with one allocation, readiness check on /-/ready and Prometheus tags', async () => {
    const { name, job } = await load('e2b-bench.nomad.hcl');
    expect(name).toBe('e2b-bench');
    expect(job.type).toBe('service');
    const group = single(job.group);
    expect(group.count).toBe(1);
    const service = only(group.service as Block[], 'service');
    expect(service.tags).toEqual(expect.arrayContaining(['prometheus', 'e2b-bench']));
    expect(only(service.check as Block[], 'check')).toMatchObject({ type: 'http', path: '/-/ready' });
  });

  it('reads its secrets from Nomad variables into the environment; the config it renders is valid', async () => {
    const { job, vars } = await load('e2b-bench.nomad.hcl');
    const task = single(single(job.group).task);
    const secrets = templateAt(task, 'secrets/e2b-bench.env')!;
    expect(secrets.env).toBe(true);
    expect(secrets.data).toMatch(/nomadVar "nomad\/jobs\/e2b-bench"/);
    const keys = [...(secrets.data as string).matchAll(/^\s*(\w+)=\{\{ \.\w+ \}\}/gm)].map((m) => m[1]);
    expect(keys.sort()).toEqual(['E2BBENCH_AUTH_TOKEN', 'E2B_API_KEY']);

    const text = render(templateAt(task, 'local/e2b-bench.yml')!.data as string, vars);
    // No secret is written into the config itself, only references to the task's environment.
    expect(text).not.toMatch(/e2b_[0-9a-f]{8}/);
    const env = { E2B_API_KEY: 'e2b_0123456789', E2BBENCH_AUTH_TOKEN: 'tok' };
    const cfg = buildConfig(parseYaml(text), ALL_PROBES, { env });
    expect(cfg.targets).toHaveLength(1);
    expect(cfg.targets[0].e2b?.api_key).toBe(env.E2B_API_KEY);
    expect(cfg.raw.server.auth_token).toBe('tok');
    // Host probes belong to the system job.
    const hostOn = [...cfg.probes.values()].filter((pc) => pc.probe.family === 'host' && pc.enabled);
    expect(hostOn).toEqual([]);
    // Unset secrets are a config error, not an empty key.
    expect(() => buildConfig(parseYaml(text), ALL_PROBES, { env: {} })).toThrow(/E2B_API_KEY/);
  });
});
