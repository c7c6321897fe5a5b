import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tracing } from '../../exporters/otel/tracing.js';

// A loopback OTLP/HTTP sink: it counts the export requests the provider sends.
let server: Server;
let endpoint: string;
let exports = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/v1/traces') exports++;
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('Tracing', () => {
  it('without an endpoint, spans have real ids but are not recorded', async () => {
    const t = new Tracing({ serviceName: 'test', version: 'test' });
    const span = t.tracer.startSpan('probe x');
    expect(span.isRecording()).toBe(false);
    expect(trace.isSpanContextValid(span.spanContext())).toBe(true);
    span.end();
    await t.shutdown();
  });

  it('with an endpoint, spans are recorded and exported', async () => {
    const t = new Tracing({ serviceName: 'test', otlpEndpoint: endpoint, version: 'test' });
    const span = t.tracer.startSpan('probe x');
    expect(span.isRecording()).toBe(true);
    span.end();
    await t.flush();
    expect(exports).toBe(1);
    await t.shutdown();
  });
});
