import { createServer, type Server } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUZZ, fuzzParams } from '../helpers/fuzz.js';
import { startExporter } from '../helpers/exporter.js';

/**
 * Property-based fuzzing of the HTTP surface of a real exporter on loopback (production plugins,
 * real probes): whatever the path, query string, headers or body, the answer is never a 5xx, every
 * 4xx carries a JSON `error`, and a 2xx comes only for valid input. The targets point at a loopback
 * server answering 401 to everything, so a valid sandbox-probe request fails fast inside the probe
 * (HTTP 200, success false) instead of starting sandboxes; host.info is the one probe that really runs.
 */

const TOKEN = 'fuzz-token-0123456789';
const TARGETS = ['a', 'b.x-1'];
const PROBES = ['host.info', 'lifecycle.ops'];

let stub: Server;
let ex: Awaited<ReturnType<typeof startExporter>>;
let machine: string;

beforeAll(async () => {
  stub = createServer((_req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 401, message: 'invalid API key' }));
  });
  await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(stub.address() as { port: number }).port}`;
  const target = (name: string) =>
    `  - { name: ${name}, cloud_provider: e2b, e2b: { api_url: "${url}", sandbox_url: "${url}", api_key: e2b_fuzz } }`;
  ex = await startExporter(
    [
      `server: { listen: "127.0.0.1:0", auth_token: "${TOKEN}", reaper_interval: 24d }`,
      'enable_all_probes: false',
      'targets:',
      ...TARGETS.map(target),
      'probes:',
      '  host.info: {}',
      '  lifecycle.ops: { samples: 1, timeout: 30s }',
      '',
    ].join('\n'),
  );
  machine = ex.exp.machine.name;
  // Something for the run filters to find.
  for (const [probe, t] of [
    ['host.info', ''],
    ['lifecycle.ops', '?target=a'],
  ])
    expect((await post(`/probe/${probe}${t}`)).status).toBe(200);
});

afterAll(async () => {
  await ex?.stop();
  await new Promise((r) => stub?.close(r));
});

function post(path: string, init: RequestInit = {}) {
  return fetch(`${ex.url}${path}`, {
    method: 'POST',
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) },
  });
}

/** Fails on a 5xx or a 4xx without a JSON reason; returns the parsed body. */
async function expectAnswered(res: Response): Promise<unknown> {
  const text = await res.text();
  expect(res.status, text).toBeLessThan(500);
  if (res.status >= 400) {
    expect(res.headers.get('content-type'), text).toMatch(/^application\/json/);
    const body = JSON.parse(text) as { error?: unknown };
    expect(typeof body.error === 'string' && body.error.length > 0, text).toBe(true);
    return body;
  }
  return /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text;
}

/** A query parameter: known keys and values, junk, repeats; percent-encoded or raw (even malformed). */
const param = fc.record({
  key: fc.oneof(fc.constantFrom('target', 'debug', 'probe', 'success', 'limit', 'x', ''), fc.string({ maxLength: 5 })),
  value: fc.oneof(
    fc.constantFrom(...TARGETS, ...PROBES, 'true', 'false', 'TRUE', '1', '0', '', '100', '1000', '1001', '-1', '1e2'),
    fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '[]', 'a[b]=c', '__proto__', 'toString'),
    fc.string({ maxLength: 8 }),
  ),
  raw: fc.boolean(),
});
type Param = { key: string; value: string; raw: boolean };

function queryOf(params: Param[]): string {
  if (!params.length) return '';
  const enc = (p: Param, s: string) => (p.raw ? s.replace(/[#&=\s]/g, encodeURIComponent) : encodeURIComponent(s));
  return '?' + params.map((p) => `${enc(p, p.key)}=${enc(p, p.value)}`).join('&');
}

/** What the server sees for each key, decoded as Node's querystring would; undefined when unparsable. */
function decoded(params: Param[]): Map<string, string[]> | undefined {
  const q = new URLSearchParams(queryOf(params));
  const m = new Map<string, string[]>();
  for (const [k, v] of q) m.set(k, [...(m.get(k) ?? []), v]);
  // Raw `%` sequences decode differently between URLSearchParams and querystring: no model for them.
  return params.some((p) => p.raw && /%/.test(p.key + p.value)) ? undefined : m;
}

const junkHeaders = fc.record(
  {
    accept: fc.oneof(
      fc.constantFrom(
        'application/openmetrics-text; version=1.0.0',
        'application/openmetrics-text;q=0',
        'text/plain;version=0.0.4',
        'text/html',
        '*/*',
        'application/json;q=0.1, */*;q=',
        ';;;,,,',
        'x'.repeat(2000),
      ),
      fc.string({ maxLength: 20 }),
    ),
    'content-type': fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      '*/*',
    ),
    authorization: fc.constantFrom(`Bearer ${TOKEN}`, `bearer ${TOKEN}`, 'Bearer', 'Bearer x', `Basic ${TOKEN}`, ''),
  },
  { requiredKeys: [] },
);

const body = fc.option(
  fc.oneof(
    fc.json(),
    fc.string({ maxLength: 50 }),
    fc.constantFrom('{', '{"target":"a"}', 'target=a&debug=true', '\u0000\uffff', 'x'.repeat(100_000)),
  ),
  { nil: undefined },
);

/** Headers undici refuses to send (not HTTP-valid) are the client's problem, not the server's. */
function sendable(headers: Record<string, string | undefined>): boolean {
  return Object.values(headers).every((v = '') => /^[\t\x20-\x7e\x80-\xff]*$/.test(v) && v.trim() === v);
}

describe('HTTP surface under hostile input (fast-check, real exporter on loopback)', () => {
  it('POST /probe/:probe: a 2xx exactly for valid input, else a 4xx with a reason, never a 5xx', async () => {
    const probeName = fc.oneof(
      fc.constantFrom(...PROBES),
      fc.constantFrom('host.cpu', 'nope', '..', '%2e%2e', '%', '%E0%A4%A', '%00', 'host.info%20', 'a/b'),
      fc.string({ maxLength: 10 }),
    );
    // Half the requests are well-formed (a known probe, target and debug at most once each, the
    // token), so the 2xx side of the property is exercised too; the rest is anything.
    const wellFormed = fc.record({
      name: fc.constantFrom(...PROBES),
      params: fc
        .tuple(
          fc.option(fc.constantFrom(...TARGETS, machine, 'nope'), { nil: undefined }),
          fc.option(fc.constantFrom('true', 'false'), { nil: undefined }),
        )
        .map(([t, d]) => [
          ...(t === undefined ? [] : [{ key: 'target', value: t, raw: false }]),
          ...(d === undefined ? [] : [{ key: 'debug', value: d, raw: false }]),
        ]),
      headers: fc.constant({}),
    });
    const anything = fc.record({ name: probeName, params: fc.array(param, { maxLength: 4 }), headers: junkHeaders });
    await fc.assert(
      fc.asyncProperty(
        fc
          .oneof(wellFormed, anything)
          .map((r) => [r.name, r.params, r.headers as Record<string, string | undefined>] as const),
        body,
        async ([name, params, headers], b) => {
          fc.pre(sendable(headers));
          const path = `/probe/${/%|\//.test(name) ? name : encodeURIComponent(name)}${queryOf(params)}`;
          const res = await post(path, { headers: { authorization: `Bearer ${TOKEN}`, ...headers }, body: b });
          const answer = await expectAnswered(res);
          const q = decoded(params);
          if (q === undefined || /%|\//.test(name)) return;
          const one = (k: string) => (q.get(k)?.length === 1 ? q.get(k)![0] : undefined);
          const authorized =
            headers.authorization === undefined || /^bearer fuzz-token-0123456789$/i.test(headers.authorization);
          const onlyKnown = [...q.keys()].every((k) => k === 'target' || k === 'debug');
          const single = [...q.values()].every((v) => v.length === 1);
          const debugOk = !q.has('debug') || one('debug') === 'true' || one('debug') === 'false';
          const target = one('target');
          const targetOk =
            name === 'host.info'
              ? !q.has('target') || target === machine
              : name === 'lifecycle.ops' && target !== undefined && TARGETS.includes(target);
          const valid = authorized && onlyKnown && single && debugOk && targetOk;
          expect({ path, status: res.status, valid }).toEqual({ path, status: valid ? 200 : res.status, valid });
          if (!valid) expect(res.status, JSON.stringify(answer)).toBeGreaterThanOrEqual(400);
        },
      ),
      fuzzParams(FUZZ.http),
    );
  });

  it('GET /api/runs filters: a 2xx exactly for valid filters (and only matching runs), else a 4xx with a reason', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(param, { maxLength: 4 }), junkHeaders, async (params, headers) => {
        fc.pre(sendable(headers));
        const path = `/api/runs${queryOf(params)}`;
        const res = await fetch(`${ex.url}${path}`, { headers });
        const answer = (await expectAnswered(res)) as { runs?: Record<string, unknown>[] };
        const q = decoded(params);
        if (q === undefined) return;
        const one = (k: string) => (q.get(k)?.length === 1 ? q.get(k)![0] : undefined);
        const known = ['probe', 'target', 'success', 'limit'];
        const limit = one('limit');
        const valid =
          [...q.keys()].every((k) => known.includes(k)) &&
          [...q.values()].every((v) => v.length === 1) &&
          (!q.has('success') || one('success') === 'true' || one('success') === 'false') &&
          one('probe') !== '' &&
          one('target') !== '' &&
          (limit === undefined || (/^\d+$/.test(limit) && Number(limit) >= 1 && Number(limit) <= 1000));
        expect({ path, valid, ok: res.status === 200 }).toEqual({ path, valid, ok: valid });
        if (!valid) return;
        for (const run of answer.runs!) {
          if (q.has('probe')) expect(run.probe).toBe(one('probe'));
          if (q.has('target')) expect(run.target).toBe(one('target'));
          if (q.has('success')) expect(run.success).toBe(one('success') === 'true');
        }
      }),
      fuzzParams(FUZZ.http),
    );
  });

  it('any method and path under the read endpoints, any Accept: never a 5xx, a 4xx with a reason', async () => {
    const path = fc.oneof(
      fc.constantFrom('/metrics', '/', '/api/runs', '/-/healthy', '/-/ready', '/favicon.ico', '/api/runs/'),
      fc
        .oneof(fc.string({ maxLength: 12 }), fc.constantFrom('%', '%E0%A4%A', '%00', '..%2f..', 'x'.repeat(3000)))
        .map((s) => `/api/runs/${s.replace(/[#?\s]/g, encodeURIComponent)}`),
      fc.string({ maxLength: 12 }).map((s) => `/${encodeURIComponent(s)}`),
    );
    const method = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH');
    await fc.assert(
      fc.asyncProperty(method, path, junkHeaders, async (m, p, headers) => {
        fc.pre(sendable(headers));
        const res = await fetch(`${ex.url}${p}`, { method: m, headers });
        if (m === 'HEAD') expect(res.status).toBeLessThan(500);
        else await expectAnswered(res);
      }),
      fuzzParams(FUZZ.http),
    );
  });

  describe('regressions the fuzzers found', () => {
    it('a path that is not valid percent-encoding: 400 with a JSON reason (was an HTML page with a stack trace)', async () => {
      for (const res of [await fetch(`${ex.url}/api/runs/%`), await post('/probe/%E0%A4%A')]) {
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({ error: 'the path is not valid percent-encoding' });
      }
    });

    it('/api/runs refuses filters it would have ignored or misread (they answered 200 with other runs)', async () => {
      for (const [q, reason] of [
        ['success=maybe', /success must be true or false/],
        ['target=', /target must not be empty/],
        ['probe=host.info&probe=lifecycle.ops', /given more than once: probe/],
        ['limit=1e2', /limit must be an integer/],
        ['since=1h', /unsupported query parameter\(s\): since/],
      ] as const) {
        const res = await fetch(`${ex.url}/api/runs?${q}`);
        expect(res.status, q).toBe(400);
        expect((await res.json()).error, q).toMatch(reason);
      }
    });

    it('POST /probe with a repeated target or debug: 400 (the repeat was ignored and host.info ran)', async () => {
      for (const q of ['target=a&target=b.x-1', 'debug=true&debug=true']) {
        const res = await post(`/probe/host.info?${q}`);
        expect(res.status, q).toBe(400);
        expect((await res.json()).error, q).toMatch(/given more than once/);
      }
    });
  });

  it('the exporter is still serving after all of it', async () => {
    expect((await fetch(`${ex.url}/-/healthy`)).status).toBe(200);
    expect((await fetch(`${ex.url}/metrics`)).status).toBe(200);
  });
});
