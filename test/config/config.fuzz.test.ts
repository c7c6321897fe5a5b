import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as yamlParse, stringify as yamlStringify } from 'yaml';
import { ALL_PROBES } from '../../probes/index.js';
import { ConfigError } from '../../src/config/errors.js';
import { buildConfig, loadConfig, parseConfigText } from '../../src/config/load.js';
import { MAX_TIMER_MS } from '../../src/config/schema.js';
import { FUZZ, fuzzParams } from '../helpers/fuzz.js';

/**
 * Property-based fuzzing of the config loader with the real probe list: whatever the document,
 * loading either succeeds or throws ConfigError, and every problem line starts with the path of
 * the key it is about (or the file's name, for YAML syntax).
 */

const ENV = { E2B_API_KEY: 'e2b_0123456789abcdef', TOKEN: 'tok-0123456789', NUM: '42', EMPTY: '' };
const SOURCE = 'fuzz.yaml';

/** A valid config touching most sections: mutations of it reach deep keys. */
const BASE = `
server: { listen: "127.0.0.1:9477", auth_token: "\${TOKEN}", instance: fuzz, reaper_interval: 5m,
          host: { name: n1, cloud_provider: aws, metadata: { kind: aws, timeout: 2s } } }
tracing: { otlp_endpoint: "http://127.0.0.1:4318", service_name: s }
enable_all_probes: true
histogram_buckets: [0.01, 0.1, 1, 10]
scheduler: { max_concurrent_runs: 2, jitter_ratio: 0.1, max_start_offset: 2m, exclusive_load: true }
budget: { max_concurrent_sandboxes: 10, max_sandbox_minutes_per_hour: 60 }
history: { path: history.sqlite, retention: 30d }
report: { weights: { start: 0.2, cost: 0.15 } }
thresholds: { "lifecycle.warm_start.p50": "< 2s" }
local_runtime: { enabled: true, driver: namespace, pool_size: 2, max_sandboxes: 50, network: isolated }
targets:
  - name: aws-us-east-1
    cloud_provider: aws
    cloud_region: us-east-1
    template: bench
    e2b: { api_key: "\${E2B_API_KEY}", domain: "e2b.example.com", request_timeout: 30s }
    nomad: { addr: "http://127.0.0.1:4646", token: "\${TOKEN}", job: orchestrator }
    cold_start_strategy: nomad-restart
    budget: { max_concurrent_sandboxes: 3 }
    max_concurrent_runs: 1
    storage: { kind: s3, bucket: b, endpoint: "http://127.0.0.1:9000", force_path_style: true,
               template_objects: [t/a.tar.zst] }
    pricing: { instance_type: m8i.4xlarge, hourly_usd: 0.85, nodes: 3, pricing_model: on_demand }
  - name: local
    cloud_provider: local
    host: self
probes:
  host.cpu: { interval: 10m, timeout: 2m }
  lifecycle.cold_start: { samples: 10, targets: [aws-us-east-1] }
  lifecycle.burst: { count: 4, modes: [burst] }
  sandbox.disk: { schedule: "0 3 * * *", timezone: Europe/Berlin }
  capacity.density: { enabled: false }
`;

const problemLine = new RegExp(
  // `(root)`, a key path such as targets[1].pricing.hourly_usd or probes["host.cpu"].timeout, or the
  // file. Secrets are masked by value for the life of the process, and this process remembers every
  // junk value the fuzzer put under a secret-named key: a key spelled like one of them shows as ***.
  String.raw`^(\(root\)|${SOURCE.replace('.', '\\.')}|` +
    String.raw`([A-Za-z_*][A-Za-z0-9_*]*|\[(\d+|"([^"\\]|\\.)*")\])(\.[A-Za-z_*][A-Za-z0-9_*]*|\[(\d+|"([^"\\]|\\.)*")\])*): \S`,
);

/** Loads; returns the problems, [] when valid. Anything but a ConfigError fails the property. */
function problemsOf(load: () => unknown): string[] {
  try {
    load();
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError))
      throw new Error(`threw ${(err as Error)?.constructor?.name}, not ConfigError: ${String(err)}`, { cause: err });
    expect(err.problems.length).toBeGreaterThan(0);
    for (const p of err.problems) expect(p).toMatch(problemLine);
    return err.problems;
  }
}

/** Values a config should never trust: wrong types, odd numbers, env references, prototype keys. */
const junk: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(
      '${UNSET_VAR}',
      '${EMPTY}',
      '${NUM}',
      '${X:-1h}',
      '${E2B_API_KEY}x',
      '1h',
      '-1s',
      '0s',
      '1e309',
      'NaN',
      '99999999999999999999d',
      '* * * * * * *',
      'Mars/Olympus',
      '127.0.0.1:99999',
      ':',
      '__proto__',
      'constructor',
      '',
      null,
      true,
      0,
      -1,
      2 ** 53 + 1,
      0.5,
    ),
    fc.string({ maxLength: 12 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(
      fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'name')),
      tie('value'),
      {
        maxKeys: 3,
      },
    ),
  ),
})).value;

type Path = (string | number)[];

function pathsOf(node: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(node)) node.forEach((v, i) => out.push(...pathsOf(v, [...at, i])));
  else if (node !== null && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) out.push(...pathsOf(v, [...at, k]));
  return out;
}

type Mutation = { pick: number; op: 'replace' | 'delete' | 'add' | 'wrap'; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom('replace', 'delete', 'add', 'wrap'),
  key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'name', 'interval', 'e2b')),
  value: junk,
});

/** Applies mutations at paths of the (structured-cloned) base document. */
function mutate(base: unknown, ms: Mutation[]): unknown {
  let doc = structuredClone(base);
  for (const m of ms) {
    const paths = pathsOf(doc);
    const path = paths[m.pick % paths.length];
    if (path.length === 0) {
      doc = m.op === 'replace' ? m.value : m.op === 'wrap' ? [doc] : doc;
      continue;
    }
    let parent = doc as Record<string | number, unknown>;
    for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
    const last = path[path.length - 1];
    if (m.op === 'replace') parent[last] = m.value;
    else if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (m.op === 'wrap') parent[last] = [parent[last]];
    else {
      const target = parent[last];
      if (target !== null && typeof target === 'object' && !Array.isArray(target))
        Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      else parent[last] = m.value;
    }
  }
  return doc;
}

/** YAML-ish fragments: structure, anchors and aliases, merge keys, tags, documents, quoting. */
const yamlText = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'targets:',
        'probes:',
        'server:',
        '\n',
        '\n  ',
        '\n  - ',
        'name: ',
        'cloud_provider: ',
        'local',
        'host.cpu: ',
        'interval: ',
        '{',
        '}',
        '[',
        ']',
        ', ',
        ': ',
        '&a ',
        '*a',
        '<<: *a',
        '!!binary ',
        '!!str ',
        '!!map ',
        '!!set ',
        '!!timestamp ',
        '!custom ',
        '? ',
        '---\n',
        '...\n',
        '%YAML 1.2\n',
        '"',
        "'",
        '|\n  ',
        '>-\n  ',
        '#',
        '${E2B_API_KEY}',
        '${UNSET}',
        '0x1F',
        '.inf',
        '.nan',
        '~',
        '\t',
        '\\u0000',
      ),
      fc.string({ maxLength: 6 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

const baseDoc = yamlParse(BASE) as unknown;

describe('config loader under hostile input (fast-check)', () => {
  it('the base document is valid (so mutations start from a config that loads)', () => {
    expect(problemsOf(() => buildConfig(baseDoc, ALL_PROBES, { env: ENV }))).toEqual([]);
  });

  it('mutated documents: ConfigError naming a path, or a valid config', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        const doc = mutate(baseDoc, ms);
        problemsOf(() => buildConfig(doc, ALL_PROBES, { env: ENV, source: SOURCE }));
      }),
      fuzzParams(FUZZ.config),
    );
  });

  it('mutated documents through YAML text: the same', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
        const text = yamlStringify(mutate(baseDoc, ms), { aliasDuplicateObjects: false });
        problemsOf(() => parseConfigText(text, ALL_PROBES, { env: ENV, source: SOURCE }));
      }),
      fuzzParams(FUZZ.config),
    );
  });

  it('YAML-ish text: ConfigError naming a path or the file, or a valid config', () => {
    fc.assert(
      fc.property(yamlText, (text) => {
        problemsOf(() => parseConfigText(text, ALL_PROBES, { env: ENV, source: SOURCE }));
      }),
      fuzzParams(FUZZ.config),
    );
  });

  it('timer durations: a config that loads never holds one a timer cannot wait for', () => {
    // Keys whose value becomes a setTimeout/setInterval delay (scheduler, reaper, run timeout, SDK and
    // metadata requests). Node fires a delay above 2^31 − 1 ms at once, and 0 re-fires forever.
    const timerKeys: Path[] = [
      ['probes', 'host.cpu', 'interval'],
      ['probes', 'host.cpu', 'timeout'],
      ['server', 'reaper_interval'],
      ['server', 'host', 'metadata', 'timeout'],
      ['scheduler', 'max_start_offset'],
      ['targets', 0, 'e2b', 'request_timeout'],
      ['targets', 0, 'nomad', 'healthy_timeout'],
    ];
    const amount = fc.oneof(fc.nat(), fc.constantFrom(0, 24, 25, 30, 596, 597, 2 ** 31, 1e12));
    const unit = fc.constantFrom('ms', 's', 'm', 'h', 'd');
    fc.assert(
      fc.property(fc.constantFrom(...timerKeys), amount, unit, (path, n, u) => {
        const doc = structuredClone(baseDoc) as Record<string, unknown>;
        let parent = doc as Record<string | number, unknown>;
        for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
        parent[path[path.length - 1]] = `${n}${u}`;
        // A timeout may not exceed its interval: keep the pair consistent where one is varied.
        if (path[2] === 'interval') (parent as Record<string, unknown>).timeout = '1ms';
        const problems = problemsOf(() => buildConfig(doc, ALL_PROBES, { env: ENV }));
        if (problems.length) return;
        const cfg = buildConfig(doc, ALL_PROBES, { env: ENV });
        const pc = cfg.probes.get('host.cpu')!;
        const t = cfg.targets[0];
        for (const [key, ms] of Object.entries({
          interval: pc.intervalMs,
          timeout: pc.timeoutMs,
          reaper_interval: cfg.raw.server.reaper_interval,
          metadata_timeout: cfg.raw.server.host.metadata?.timeout ?? 1,
          request_timeout: t.e2b?.request_timeout ?? 1,
          healthy_timeout: t.nomad?.healthy_timeout ?? 1,
        }))
          expect({ key, ok: ms > 0 && ms <= MAX_TIMER_MS }).toEqual({ key, ok: true });
        expect(cfg.raw.scheduler.max_start_offset).toBeLessThanOrEqual(MAX_TIMER_MS);
      }),
      fuzzParams(FUZZ.config),
    );
  });

  describe('regressions the fuzzers found', () => {
    it('an alias to no anchor is a ConfigError naming the file (yaml threw a ReferenceError)', () => {
      for (const text of ['<<: *a', '*\0', 'targets: [*t]'])
        expect(problemsOf(() => parseConfigText(text, ALL_PROBES, { env: ENV, source: SOURCE }))[0]).toMatch(
          /^fuzz\.yaml: .*alias/i,
        );
    });

    it('an interval longer than a timer holds, or zero, names its key (30d fired at once, again and again)', () => {
      for (const interval of ['30d', '0s'])
        expect(
          problemsOf(() =>
            parseConfigText(`probes: { host.cpu: { interval: ${interval} } }`, ALL_PROBES, { env: ENV }),
          ),
        ).toEqual(['probes["host.cpu"].interval: expected a duration from 1ms to 24d (the longest a timer can wait)']);
      expect(
        problemsOf(() => parseConfigText('server: { reaper_interval: 25d }', ALL_PROBES, { env: ENV }))[0],
      ).toMatch(/^server\.reaper_interval: expected a duration from 1ms to 24d/);
    });
  });

  describe('files', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'e2bbench-fuzz-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('arbitrary bytes in a file: ConfigError or a valid config', async () => {
      const file = join(dir, 'config.yaml');
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
          await writeFile(file, bytes);
          try {
            await loadConfig(file, ALL_PROBES, ENV);
          } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            for (const p of err.problems) expect(p.startsWith(`${file}: `) || problemLine.test(p)).toBe(true);
          }
        }),
        fuzzParams(FUZZ.config),
      );
    });

    it('a directory or a missing file: ConfigError naming it', async () => {
      for (const file of [dir, join(dir, 'missing.yaml')]) {
        const err = await loadConfig(file, ALL_PROBES, ENV).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).problems[0].startsWith(`${file}: `)).toBe(true);
      }
    });
  });
});
