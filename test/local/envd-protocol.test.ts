import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { Sandbox } from 'e2b';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Filesystem } from '../../src/local/envd/gen/filesystem/filesystem_pb.js';
import { Process } from '../../src/local/envd/gen/process/process_pb.js';
import { canRunSandboxes, startFixture, type RuntimeFixture } from './helpers.js';

/** A Connect client of our own envd descriptors, in either encoding, as a sandbox's owner. */
function clients(fx: RuntimeFixture, sb: Sandbox, binary: boolean) {
  const transport = createConnectTransport({
    baseUrl: fx.rt.sandboxUrl,
    httpVersion: '1.1',
    useBinaryFormat: binary,
    interceptors: [
      (next) => async (req) => {
        req.header.set('e2b-sandbox-id', sb.sandboxId);
        req.header.set('x-access-token', (sb as unknown as { envdAccessToken: string }).envdAccessToken);
        return next(req);
      },
    ],
  });
  return { process: createClient(Process, transport), fs: createClient(Filesystem, transport) };
}

describe.skipIf(!canRunSandboxes)('local runtime: envd Connect protocol', () => {
  let fx: RuntimeFixture;
  let sb: Sandbox;
  beforeAll(async () => {
    fx = await startFixture();
    sb = await fx.create();
  });
  afterAll(async () => {
    await fx?.stop();
  });

  for (const binary of [false, true]) {
    it(`streams start, data and end events (${binary ? 'binary' : 'JSON'})`, async () => {
      const { process } = clients(fx, sb, binary);
      const kinds: string[] = [];
      let out = '';
      let exitCode: number | undefined;
      for await (const res of process.start({
        process: { cmd: '/bin/bash', args: ['-l', '-c', 'echo hi; exit 5'], envs: {} },
      })) {
        const ev = res.event?.event;
        kinds.push(ev?.case ?? 'none');
        if (ev?.case === 'data' && ev.value.output.case === 'stdout')
          out += Buffer.from(ev.value.output.value).toString();
        if (ev?.case === 'end') exitCode = ev.value.exitCode;
      }
      expect(kinds[0]).toBe('start');
      expect(kinds[kinds.length - 1]).toBe('end');
      expect(out).toBe('hi\n');
      expect(exitCode).toBe(5);
      const st = await clients(fx, sb, binary).fs.stat({ path: '/etc/hostname' });
      expect(st.entry?.name).toBe('hostname');
      expect(st.entry?.size).toBe(4n);
    });
  }

  it('sends keepalives on a quiet long command at the requested interval', async () => {
    const { process } = clients(fx, sb, false);
    const kinds: string[] = [];
    for await (const res of process.start(
      { process: { cmd: '/bin/bash', args: ['-c', 'sleep 2.5'], envs: {} } },
      { headers: { 'Keepalive-Ping-Interval': '1' } },
    )) {
      kinds.push(res.event?.event.case ?? 'none');
    }
    expect(kinds[0]).toBe('start');
    expect(kinds.filter((k) => k === 'keepalive').length).toBeGreaterThanOrEqual(2);
    expect(kinds[kinds.length - 1]).toBe('end');
  });

  it('answers an unknown sandbox with 502 and a missing token with 401', async () => {
    const health = await fetch(`${fx.rt.sandboxUrl}/health`, { headers: { 'e2b-sandbox-id': 'nosuchsandbox' } });
    expect(health.status).toBe(502);
    const noToken = await fetch(`${fx.rt.sandboxUrl}/filesystem.Filesystem/Stat`, {
      method: 'POST',
      headers: { 'e2b-sandbox-id': sb.sandboxId, 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/' }),
    });
    expect(noToken.status).toBe(401);
    expect(((await noToken.json()) as { code: string }).code).toBe('unauthenticated');
  });
});
