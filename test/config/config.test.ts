import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as yamlParse } from 'yaml';
import { z } from 'zod';
import { parseBytes, parseDuration } from '../../src/config/duration.js';
import { ConfigError, formatPath } from '../../src/config/errors.js';
import { buildConfig, DEFAULT_CONFIG_DOC, loadConfig, parseConfigText, probeAppliesTo } from '../../src/config/load.js';
import { CLOUD_PROVIDERS } from '../../src/config/schema.js';
import { defineProbe, type Probe } from '../../src/probe/types.js';

/** Probes are injected, so the config tests do not depend on which real probes exist. */
const cpu = defineProbe({
  name: 'host.cpu',
  family: 'host',
  description: 'fake cpu',
  defaults: { interval: '10m', timeout: '2m' },
  options: z.object({ threads: z.array(z.number().int().positive()).default([1]) }),
  async run() {},
});
const info = defineProbe({
  name: 'host.info',
  family: 'host',
  description: 'fake info',
  defaults: { interval: '1h', timeout: '30s' },
  async run() {},
});
const sandboxCpu = defineProbe({
  name: 'sandbox.cpu',
  family: 'sandbox',
  description: 'fake sandbox cpu',
  defaults: { interval: '10m', timeout: '2m' },
  async run() {},
});
const PROBES: Probe[] = [cpu, info, sandboxCpu];

const ENV = { E2B_API_KEY: 'e2b_0123456789abcdef', E2BBENCH_TOKEN: 'tok-123' };

/** The example config: valid as is. */
const GOOD = `
server: { listen: "127.0.0.1:9477", auth_token: "\${E2BBENCH_TOKEN}" }
tracing: { otlp_endpoint: "http://127.0.0.1:4318" }
budget: { max_concurrent_sandboxes: 10, max_sandbox_minutes_per_hour: 60 }
targets:
  - name: aws-us-east-1
    cloud_provider: aws
    cloud_region: us-east-1
    template: bench
    e2b: { api_key: "\${E2B_API_KEY}", domain: "e2b.example.com" }
    pricing: { instance_type: m8i.4xlarge, hourly_usd: 0.85, nodes: 3, pricing_model: on_demand }
  - name: local
    cloud_provider: local
probes:
  host.cpu: { interval: 10m, timeout: 2m }
`;

function good(): Record<string, any> {
  return yamlParse(GOOD);
}

/** The problems a config yields; [] when valid. */
function problemsOf(doc: unknown, env: NodeJS.ProcessEnv = ENV): string[] {
  try {
    buildConfig(doc, PROBES, { env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('config: the issue example', () => {
  it('is valid and interpolates environment variables', () => {
    const cfg = parseConfigText(GOOD, PROBES, { env: ENV, source: 'example.yaml' });
    expect(cfg.source).toBe('example.yaml');
    expect(cfg.targets.map((t) => t.name)).toEqual(['aws-us-east-1', 'local']);
    expect(cfg.targets[0].e2b?.api_key).toBe(ENV.E2B_API_KEY);
    expect(cfg.raw.server.auth_token).toBe(ENV.E2BBENCH_TOKEN);
    expect(cfg.targets[0].pricing).toMatchObject({ hourly_usd: 0.85, nodes: 3, pricing_model: 'on_demand' });
    const pc = cfg.probes.get('host.cpu')!;
    expect(pc.intervalMs).toBe(600_000);
    expect(pc.timeoutMs).toBe(120_000);
    expect(pc.options).toEqual({ threads: [1] });
    // Probes not in the file are still there, with their defaults.
    expect(cfg.probes.get('host.info')).toMatchObject({ enabled: true, intervalMs: 3_600_000, timeoutMs: 30_000 });
  });
});

describe('config: bad configs name the path of the bad key', () => {
  // Each case: a mutation of the valid example, and the exact problem line it must produce.
  const cases: { what: string; mutate: (d: Record<string, any>) => void; expected: string; env?: NodeJS.ProcessEnv }[] =
    [
      {
        what: 'wrong type deep in a target',
        mutate: (d) => (d.targets[1].pricing = { hourly_usd: 'abc' }),
        expected: 'targets[1].pricing.hourly_usd: expected number, got "abc"',
      },
      {
        what: 'unknown top-level key',
        mutate: (d) => (d.sever = { listen: '127.0.0.1:1' }),
        expected: 'sever: unknown key',
      },
      {
        what: 'unknown key inside a target',
        mutate: (d) => (d.targets[0].regoin = 'x'),
        expected: 'targets[0].regoin: unknown key',
      },
      {
        what: 'bad enum',
        mutate: (d) => (d.targets[0].cloud_provider = 'ibm'),
        expected: `targets[0].cloud_provider: expected one of ${CLOUD_PROVIDERS.join(', ')}, got "ibm"`,
      },
      {
        what: 'bad pricing model enum',
        mutate: (d) => (d.targets[0].pricing.pricing_model = 'cheap'),
        expected:
          'targets[0].pricing.pricing_model: expected one of on_demand, reserved_1y, reserved_3y, spot, got "cheap"',
      },
      {
        what: 'bad duration in a probe',
        mutate: (d) => (d.probes['host.cpu'].interval = '10 minutes'),
        expected: 'probes["host.cpu"].interval: expected a duration such as "30s", "10m", "1h"',
      },
      {
        what: 'unknown probe',
        mutate: (d) => (d.probes['host.gpu'] = {}),
        expected: 'probes["host.gpu"]: unknown probe (known: host.cpu, host.info, sandbox.cpu)',
      },
      {
        what: 'unknown option key inside a probe',
        mutate: (d) => (d.probes['host.cpu'].thread = [1, 2]),
        expected: 'probes["host.cpu"].thread: unknown key',
      },
      {
        what: 'wrong type of a probe option',
        mutate: (d) => (d.probes['host.cpu'].threads = ['two']),
        expected: 'probes["host.cpu"].threads[0]: expected number, got "two"',
      },
      {
        what: 'duplicate target names',
        mutate: (d) => (d.targets[1].name = 'aws-us-east-1'),
        expected: 'targets[1].name: duplicate target name "aws-us-east-1"',
      },
      {
        what: 'unset environment variable',
        mutate: () => undefined,
        env: { E2BBENCH_TOKEN: 'tok' },
        expected: 'targets[0].e2b.api_key: environment variable E2B_API_KEY is not set',
      },
      {
        what: 'missing e2b connection for a non-local provider',
        mutate: (d) => delete d.targets[0].e2b,
        expected: 'targets[0].e2b: required for cloud_provider aws',
      },
      {
        what: 'e2b connection without domain or api_url',
        mutate: (d) => (d.targets[0].e2b = { api_key: 'k' }),
        expected: 'targets[0].e2b: set either domain or api_url (+ sandbox_url)',
      },
      {
        what: 'bad listen address',
        mutate: (d) => (d.server.listen = 'localhost'),
        expected: 'server.listen: expected HOST:PORT',
      },
      {
        what: 'probe targets naming an unknown target',
        mutate: (d) => (d.probes['sandbox.cpu'] = { targets: ['local', 'gcp-eu'] }),
        expected: 'probes["sandbox.cpu"].targets[1]: unknown target "gcp-eu"',
      },
      {
        what: 'timeout longer than the interval',
        mutate: (d) => (d.probes['host.cpu'] = { interval: '1m', timeout: '2m' }),
        expected: 'probes["host.cpu"].timeout: must not exceed the interval',
      },
      {
        what: 'targets given as a mapping',
        mutate: (d) => (d.targets = { local: { cloud_provider: 'local' } }),
        expected: 'targets: expected array, got a mapping',
      },
      {
        what: 'missing required key',
        mutate: (d) => delete d.targets[1].cloud_provider,
        expected: 'targets[1].cloud_provider: required (expected',
      },
      {
        what: 'nomad-restart without nomad',
        mutate: (d) => (d.targets[0].cold_start_strategy = 'nomad-restart'),
        expected: 'targets[0].nomad: required by cold_start_strategy nomad-restart',
      },
      {
        what: 'jitter ratio out of range',
        mutate: (d) => (d.scheduler = { jitter_ratio: 0.9 }),
        expected: 'scheduler.jitter_ratio: ',
      },
      {
        what: 'target name with a space',
        mutate: (d) => (d.targets[1].name = 'my target'),
        expected: 'targets[1].name: expected letters, digits, "_", "." or "-"',
      },
    ];

  it.each(cases)('$what', ({ mutate, expected, env }) => {
    const doc = good();
    expect(problemsOf(doc)).toEqual([]);
    mutate(doc);
    const problems = problemsOf(doc, env);
    expect(problems.length).toBeGreaterThan(0);
    // Exact line, or (for zod's own wording) the exact path prefix.
    if (expected.endsWith(': ') || expected.endsWith('(expected'))
      expect(problems.some((p) => p.startsWith(expected))).toBe(true);
    else expect(problems).toContain(expected);
  });

  it('lists every error at once, one line each', () => {
    const doc = good();
    doc.targets[1].pricing = { hourly_usd: 'abc' };
    doc.targets[0].cloud_provider = 'ibm';
    doc.server.listen = 'nowhere';
    const problems = problemsOf(doc);
    expect(problems).toHaveLength(3);
    expect(problems).toEqual(
      expect.arrayContaining([
        'targets[1].pricing.hourly_usd: expected number, got "abc"',
        expect.stringMatching(/^targets\[0\]\.cloud_provider: expected one of/),
        'server.listen: expected HOST:PORT',
      ]),
    );
    // The thrown message carries them all, one per line.
    try {
      buildConfig(doc, PROBES, { env: ENV });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message.split('\n').slice(1)).toHaveLength(3);
    }
  });

  it('reports probe errors together with target errors', () => {
    const doc = good();
    doc.targets[1].pricing = { hourly_usd: 'abc' };
    doc.probes['host.cpu'].interval = 'soon';
    doc.probes['host.gpu'] = {};
    expect(problemsOf(doc)).toEqual([
      'targets[1].pricing.hourly_usd: expected number, got "abc"',
      'probes["host.gpu"]: unknown probe (known: host.cpu, host.info, sandbox.cpu)',
      'probes["host.cpu"].interval: expected a duration such as "30s", "10m", "1h"',
    ]);
  });

  it('does not invent "unknown target" errors when another part of the config is bad', () => {
    const doc = good();
    doc.targets[1].pricing = { hourly_usd: 'abc' };
    doc.probes['sandbox.cpu'] = { targets: ['local'] };
    expect(problemsOf(doc)).toEqual(['targets[1].pricing.hourly_usd: expected number, got "abc"']);
  });

  it('names an unset variable once, not again as an empty string', () => {
    const problems = problemsOf(good(), { E2BBENCH_TOKEN: 'tok' });
    expect(problems.filter((p) => p.startsWith('targets[0].e2b.api_key'))).toEqual([
      'targets[0].e2b.api_key: environment variable E2B_API_KEY is not set',
    ]);
  });
});

describe('config: environment interpolation', () => {
  const doc = (region: string) => ({ targets: [{ name: 'local', cloud_provider: 'local', cloud_region: region }] });
  const region = (d: unknown, env: NodeJS.ProcessEnv) => buildConfig(d, PROBES, { env }).targets[0].cloud_region;

  it('replaces ${VAR}', () => {
    expect(region(doc('${REGION}'), { REGION: 'eu-west-1' })).toBe('eu-west-1');
    expect(region(doc('zone-${REGION}-a'), { REGION: 'x' })).toBe('zone-x-a');
  });

  it('uses ${VAR:-default} when unset or empty, the variable when set', () => {
    expect(region(doc('${REGION:-us-east-1}'), {})).toBe('us-east-1');
    expect(region(doc('${REGION:-us-east-1}'), { REGION: '' })).toBe('us-east-1');
    expect(region(doc('${REGION:-us-east-1}'), { REGION: 'ap-south-1' })).toBe('ap-south-1');
  });

  it('cannot inject YAML structure through a value', () => {
    const cfg = parseConfigText(
      'targets:\n  - name: local\n    cloud_provider: local\n    cloud_region: "${R}"\n',
      PROBES,
      {
        env: { R: 'x\n    template: evil' },
      },
    );
    expect(cfg.targets[0].cloud_region).toBe('x\n    template: evil');
    expect(cfg.targets[0].template).toBe('base');
  });

  it('leaves text without variables alone', () => {
    expect(region(doc('$HOME and ${not closed'), {})).toBe('$HOME and ${not closed');
  });
});

describe('config: files, YAML and the default', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'e2bbench-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('without a file: one target "local" and every probe enabled', async () => {
    const cfg = await loadConfig(undefined, PROBES, {});
    expect(cfg.source).toBe('(default)');
    expect(cfg.targets).toHaveLength(1);
    expect(cfg.targets[0]).toMatchObject({ name: 'local', cloud_provider: 'local' });
    expect(DEFAULT_CONFIG_DOC.targets[0].name).toBe('local');
    expect([...cfg.probes.keys()].sort()).toEqual(['host.cpu', 'host.info', 'sandbox.cpu']);
    for (const pc of cfg.probes.values()) expect(probeAppliesTo(pc, cfg.targets[0])).toBe(true);
    expect(cfg.raw.server.listen).toBe('127.0.0.1:9477');
  });

  it('an opt-in probe runs only where the configuration names it or enables it', () => {
    const optIn = defineProbe({
      name: 'sandbox.container',
      family: 'sandbox',
      description: 'fake opt-in',
      defaults: { interval: '30m', timeout: '5m', enabled: false },
      async run() {},
    });
    const probes = [...PROBES, optIn];
    const enabledOf = (doc: unknown) =>
      Object.fromEntries([...buildConfig(doc, probes, { env: {} }).probes].map(([k, pc]) => [k, pc.enabled]));
    const targets = DEFAULT_CONFIG_DOC.targets;
    // Default: every probe but the opt-in one.
    expect(enabledOf(DEFAULT_CONFIG_DOC)).toEqual({
      'host.cpu': true,
      'host.info': true,
      'sandbox.cpu': true,
      'sandbox.container': false,
    });
    // Named (with any settings) or enabled: it runs; an explicit false still wins.
    expect(enabledOf({ targets, probes: { 'sandbox.container': { samples: 1 } } })['sandbox.container']).toBe(true);
    expect(enabledOf({ targets, probes: { 'sandbox.container': { enabled: true } } })['sandbox.container']).toBe(true);
    expect(enabledOf({ targets, probes: { 'sandbox.container': { enabled: false } } })['sandbox.container']).toBe(
      false,
    );
    // enable_all_probes: false keeps its meaning for the rest.
    expect(
      enabledOf({ targets, enable_all_probes: false, probes: { 'sandbox.container': {}, 'host.cpu': {} } }),
    ).toEqual({ 'host.cpu': true, 'host.info': false, 'sandbox.cpu': false, 'sandbox.container': true });
  });

  it('reads a file and reports its problems', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'targets:\n  - name: a\n    cloud_provider: mars\n');
    await expect(loadConfig(file, PROBES, {})).rejects.toMatchObject({
      problems: [`targets[0].cloud_provider: expected one of ${CLOUD_PROVIDERS.join(', ')}, got "mars"`],
    });
  });

  it('a missing file is one clear problem', async () => {
    const file = join(dir, 'nope.yaml');
    await expect(loadConfig(file, PROBES, {})).rejects.toMatchObject({ problems: [`${file}: cannot read (ENOENT)`] });
  });

  it('reports a YAML syntax error with the source', () => {
    expect(() => parseConfigText('targets: [\n  - name: a\n', PROBES, { source: 'x.yaml' })).toThrow(ConfigError);
    try {
      parseConfigText('server: { listen: "a:1"\n', PROBES, { source: 'x.yaml' });
      expect.unreachable();
    } catch (err) {
      const problems = (err as ConfigError).problems;
      expect(problems.length).toBeGreaterThan(0);
      expect(problems[0]).toMatch(/^x\.yaml: /);
    }
  });

  it('rejects duplicate YAML keys', () => {
    try {
      parseConfigText('server: {}\nserver: {}\n', PROBES, { source: 'dup.yaml' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.join('\n')).toMatch(/^dup\.yaml: .*unique/im);
    }
  });

  it('an empty file is the empty config (no targets), not an error', () => {
    const cfg = parseConfigText('', PROBES);
    expect(cfg.targets).toEqual([]);
  });

  it('a disabled probe does not apply; probe targets restrict it', () => {
    const cfg = parseConfigText(
      `targets:
  - { name: a, cloud_provider: local }
  - { name: b, cloud_provider: local }
probes:
  sandbox.cpu: { targets: [b] }
  host.info: { enabled: false }
`,
      PROBES,
    );
    const [a, b] = cfg.targets;
    expect(probeAppliesTo(cfg.probes.get('sandbox.cpu')!, a)).toBe(false);
    expect(probeAppliesTo(cfg.probes.get('sandbox.cpu')!, b)).toBe(true);
    expect(probeAppliesTo(cfg.probes.get('host.info')!, a)).toBe(false);
  });

  it('host probes take no targets list, and one target at most holds this machine (host: self)', () => {
    const doc = good();
    doc.probes['host.cpu'].targets = ['local'];
    doc.targets[0].host = 'self';
    doc.targets[1].host = 'self';
    expect(problemsOf(doc)).toEqual([
      'targets[1].host: only one target can run on this machine (targets[0] already does)',
      'probes["host.cpu"].targets: host probes measure this machine once, whatever the targets; mark the target it belongs to with targets[].host: self',
    ]);
  });
});

describe('config: helpers', () => {
  it('formatPath quotes keys that are not identifiers', () => {
    expect(formatPath(['targets', 1, 'pricing', 'hourly_usd'])).toBe('targets[1].pricing.hourly_usd');
    expect(formatPath(['probes', 'host.cpu', 'interval'])).toBe('probes["host.cpu"].interval');
    expect(formatPath([])).toBe('(root)');
  });

  it('parseDuration', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5s')).toBe(1500);
    for (const bad of ['', '10', 'm', '10 minutes', '5x', '1h 30m', '-1s']) expect(parseDuration(bad)).toBeUndefined();
  });

  it('parseBytes', () => {
    expect(parseBytes('64MiB')).toBe(64 * 2 ** 20);
    expect(parseBytes('1GB')).toBe(1e9);
    expect(parseBytes('512k')).toBe(512 * 1024);
    expect(parseBytes(4096)).toBe(4096);
    expect(parseBytes('lots')).toBeUndefined();
    expect(parseBytes(-1)).toBeUndefined();
  });
});
