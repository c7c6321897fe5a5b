import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './lib/sources.js';
import { run } from './lib/tools.js';

// No Docker engine runs here: docker-compose validates and resolves the file without one.
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  privileged?: boolean;
  user?: string;
  environment?: Record<string, string>;
  volumes?: (string | { type: string; source: string; target: string })[];
  depends_on?: Record<string, unknown>;
  healthcheck?: unknown;
}

function composeConfig(): { services: Record<string, Service> } {
  const r = run('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config'], { cwd: ROOT });
  if (r.status !== 0) throw new Error(`docker-compose config failed:\n${r.stderr}`);
  return parse(r.stdout);
}

const bindSources = (s: Service) =>
  (s.volumes ?? []).flatMap((v) => {
    const source = typeof v === 'string' ? v.split(':')[0] : v.type === 'bind' ? v.source : '';
    return source.startsWith('/') ? [source] : [];
  });

describe('docker-compose.yml', () => {
  const { services } = composeConfig();

  it('has the exporter, local runtime, Prometheus, Grafana, trace store and S3-compatible store', () => {
    for (const name of ['exporter', 'local-runtime', 'prometheus', 'grafana', 'jaeger', 'minio'])
      expect(services, name).toHaveProperty(name);
  });

  it('runs the local runtime privileged and the exporter unprivileged, both from the Dockerfile', () => {
    expect(services['local-runtime'].privileged).toBe(true);
    expect(services['local-runtime'].command?.[0]).toBe('local-runtime');
    expect(services.exporter.privileged).toBeFalsy();
    expect(services.exporter.user).toBeUndefined();
    expect(services.exporter.command?.slice(0, 3)).toEqual(['serve', '--config', '/etc/e2b-bench/config.yml']);
    for (const s of [services.exporter, services['local-runtime']]) expect(s.build).toBeTruthy();
  });

  it('loads the rules into Prometheus with exemplar storage on', () => {
    const p = services.prometheus;
    expect(p.command).toContain('--enable-feature=exemplar-storage');
    expect(p.command).toContain('--config.file=/etc/compose/prometheus.yml');
    expect(bindSources(p)).toContain(join(ROOT, 'prometheus'));
    // compose/prometheus.yml finds the rules at ../prometheus/rules: compose/ sits beside prometheus/.
    expect(bindSources(p)).toContain(join(ROOT, 'compose'));
  });

  it('provisions Grafana from grafana/', () => {
    const sources = bindSources(services.grafana);
    expect(sources).toContain(join(ROOT, 'grafana/provisioning'));
    expect(sources).toContain(join(ROOT, 'grafana/dashboards'));
  });

  it('bind-mounts only paths that exist in the repository', () => {
    for (const [name, s] of Object.entries(services))
      for (const source of bindSources(s)) expect(existsSync(source), `${name}: ${source}`).toBe(true);
  });

  it('wires the exporter to the runtime, Jaeger and MinIO', () => {
    const cfg = parse(readFileSync(join(ROOT, 'compose/e2b-bench.yml'), 'utf8'));
    const target = cfg.targets[0];
    expect(target.e2b.api_url).toMatch(/^http:\/\/local-runtime:\d+$/);
    expect(cfg.tracing.otlp_endpoint).toBe('http://jaeger:4318');
    // The runtime is its own service: it exports its server spans to the same trace store.
    expect(services['local-runtime'].environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://jaeger:4318');
    expect(target.storage.endpoint).toBe('http://minio:9000');
    expect(Object.keys(services.exporter.depends_on ?? {})).toEqual(
      expect.arrayContaining(['local-runtime', 'jaeger', 'minio-init']),
    );
    const scrape = readFileSync(join(ROOT, 'compose/prometheus.yml'), 'utf8');
    expect(scrape).toContain("'exporter:9477'");
    expect(scrape).toContain("'local-runtime:3000'");
  });

  it("the exporter's config passes e2b-bench check-config", () => {
    const env = {
      ...process.env,
      E2BBENCH_TOKEN: 't',
      E2BBENCH_LOCAL_API_KEY: 'k',
      MINIO_ROOT_USER: 'u',
      MINIO_ROOT_PASSWORD: 'p',
    };
    const r = run(
      process.execPath,
      [join(ROOT, 'bin/e2b-bench.js'), 'check-config', join(ROOT, 'compose/e2b-bench.yml')],
      {
        env,
      },
    );
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const froms = [...text.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gm)];

  it('is multi-stage on a Node LTS image', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const major = Number(/^ARG NODE_VERSION=(\d+)$/m.exec(text)?.[1]);
    expect(major % 2, 'even Node majors are the LTS lines').toBe(0);
    expect(major).toBeGreaterThanOrEqual(22);
    for (const [, image] of froms) expect(image).toMatch(/^node:\$\{NODE_VERSION\}-/);
    expect(text).toMatch(/COPY --from=build /);
  });

  it('runs as a non-root user, with a health check on /-/healthy', () => {
    const lastStage = text.slice(froms[froms.length - 1].index);
    expect(lastStage).toMatch(/^USER (?!root)\S+$/m);
    expect(lastStage).toMatch(/^HEALTHCHECK .*\n?.*\/-\/healthy/m);
    expect(lastStage).toMatch(/^CMD \["serve"/m);
  });

  it('.dockerignore keeps node_modules and .git out of the build context', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['node_modules', '.git', 'dist']));
  });
});
