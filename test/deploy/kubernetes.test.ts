/**
 * The Kubernetes manifests in deploy/kubernetes/, checked structurally (no cluster runs here):
 * every file kustomization.yaml lists parses, selectors match the pod labels, probes and monitors
 * name ports that exist, every secret and config key referenced is defined, and both
 * configurations the ConfigMap holds pass the exporter's own config loader.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ALL_PROBES } from '../../probes/index.js';
import { parseConfigText } from '../../src/config/load.js';
import { configuredPairs } from '../../src/dispatch/pairs.js';
import { machineIdentity, machineTarget } from '../../src/targets/machine.js';

const DIR = join(import.meta.dirname, '../../deploy/kubernetes');
type Obj = Record<string, any>;

function docs(file: string): Obj[] {
  return parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
    expect(d.errors, file).toEqual([]);
    return d.toJS() as Obj;
  });
}

const kustomization = docs('kustomization.yaml')[0];
const objects = (kustomization.resources as string[]).flatMap(docs);
const find = (kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  expect(o, `${kind}/${name}`).toBeDefined();
  return o!;
};
const configMap = find('ConfigMap', 'e2b-bench');
const secret = find('Secret', 'e2b-bench');

/** Checks a workload's wiring and returns its container and the config file it runs with. */
function workload(kind: string, name: string) {
  const w = find(kind, name);
  const pod = w.spec.template;
  // The selector picks this pod template.
  for (const [k, v] of Object.entries(w.spec.selector.matchLabels as Record<string, string>))
    expect(pod.metadata.labels[k], `${kind} selector ${k}`).toBe(v);
  const [c] = pod.spec.containers as Obj[];
  const ports = new Map((c.ports as Obj[]).map((p) => [p.name, p.containerPort]));
  for (const probe of ['readinessProbe', 'livenessProbe']) expect(ports.has(c[probe].httpGet.port), probe).toBe(true);
  expect(c.readinessProbe.httpGet.path).toBe('/-/ready');
  expect(c.livenessProbe.httpGet.path).toBe('/-/healthy');
  expect(pod.metadata.annotations['prometheus.io/scrape']).toBe('true');
  expect(Number(pod.metadata.annotations['prometheus.io/port'])).toBe(ports.get('http-metrics'));
  // Every secret key referenced exists; secrets never sit in the ConfigMap.
  for (const e of (c.env ?? []) as Obj[]) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) expect(secret.stringData, `${e.name}`).toHaveProperty(ref.key);
  }
  // The config file it runs is a key of the ConfigMap, mounted where --config points.
  const mount = (c.volumeMounts as Obj[]).find((m) => m.name === 'config')!;
  const volume = (pod.spec.volumes as Obj[]).find((v) => v.name === 'config')!;
  expect(volume.configMap.name).toBe('e2b-bench');
  const [item] = volume.configMap.items as Obj[];
  expect(c.args).toContain(`${mount.mountPath}/${item.path}`);
  const yaml = configMap.data[item.key] as string;
  expect(yaml, item.key).toBeDefined();
  const listen = /listen: "0\.0\.0\.0:(\d+)"/.exec(yaml)!;
  expect(Number(listen[1]), 'the config listens on the container port').toBe(ports.get('http-metrics'));
  return { w, c, yaml };
}

describe('deploy/kubernetes', () => {
  it('lists only files that exist and parse; every object is namespaced by kustomize', () => {
    expect(kustomization.namespace).toBe('e2b-bench');
    expect(objects.map((o) => o.kind).sort()).toEqual(
      ['ConfigMap', 'DaemonSet', 'Deployment', 'Namespace', 'PodMonitor', 'Secret', 'Service', 'ServiceMonitor'].sort(),
    );
  });

  it('the exporter Deployment: one replica, secrets from the Secret, a valid config without host probes', () => {
    const { w, c, yaml } = workload('Deployment', 'e2b-bench');
    expect(w.spec.replicas).toBe(1);
    const env = Object.fromEntries(
      (c.env as Obj[]).map((e) => [e.name, `from-secret-${e.valueFrom.secretKeyRef.key}`]),
    );
    const cfg = parseConfigText(yaml, ALL_PROBES, { env, source: 'configmap e2b-bench.yml' });
    expect(cfg.targets[0].e2b?.api_key).toBe('from-secret-e2b-api-key');
    expect(cfg.raw.server.auth_token).toBe('from-secret-auth-token');
    expect([...cfg.probes.values()].filter((pc) => pc.probe.family === 'host' && pc.enabled)).toEqual([]);
  });

  it('the Service and ServiceMonitor reach the Deployment on its metrics port, as job="e2b-bench"', () => {
    const { w } = workload('Deployment', 'e2b-bench');
    const svc = find('Service', 'e2b-bench');
    const podLabels = w.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(svc.spec.selector as Record<string, string>)) expect(podLabels[k]).toBe(v);
    expect(svc.spec.ports[0].targetPort).toBe('http-metrics');
    const sm = find('ServiceMonitor', 'e2b-bench');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels as Record<string, string>))
      expect(svc.metadata.labels[k]).toBe(v);
    expect(sm.spec.endpoints[0].port).toBe(svc.spec.ports[0].name);
    // The rules and dashboards select job="e2b-bench": the job label comes from the Service.
    expect(svc.metadata.labels[sm.spec.jobLabel]).toBe('e2b-bench');
  });

  it('the host DaemonSet measures the node it runs on, labelled with the node name, on the node disk', () => {
    const { w, c, yaml } = workload('DaemonSet', 'e2b-bench-host');
    const nodeName = (c.env as Obj[]).find((e) => e.name === 'NODE_NAME')!;
    expect(nodeName.valueFrom.fieldRef.fieldPath).toBe('spec.nodeName');
    expect(c.resources.limits?.cpu, 'no CPU limit on a CPU benchmark').toBeUndefined();
    const cfg = parseConfigText(yaml, ALL_PROBES, { env: { NODE_NAME: 'node-a' }, source: 'configmap host' });
    const machine = machineTarget(machineIdentity(cfg.raw.server.host, cfg.targets), cfg.targets);
    expect(machine.machine!.host).toBe('node-a');
    const running = configuredPairs(cfg, cfg.targets, machine).map((p) => p.pc);
    expect(running.length).toBeGreaterThan(0);
    expect(running.every((pc) => pc.probe.family === 'host')).toBe(true);
    // fio's directory is the hostPath volume, not the container's overlay.
    const dir = (cfg.probes.get('host.disk')!.options as { directory: string }).directory;
    const mount = (c.volumeMounts as Obj[]).find((m) => m.mountPath === dir)!;
    const vol = (w.spec.template.spec.volumes as Obj[]).find((v) => v.name === mount.name)!;
    expect(vol.hostPath).toBeDefined();
    const pm = find('PodMonitor', 'e2b-bench-host');
    for (const [k, v] of Object.entries(pm.spec.selector.matchLabels as Record<string, string>))
      expect(w.spec.template.metadata.labels[k]).toBe(v);
    expect(w.spec.template.metadata.labels[pm.spec.jobLabel]).toBe('e2b-bench');
  });
});
