import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { tracing } from '@opentelemetry/sdk-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpClientSpans } from '../../exporters/otel/http-client-spans.js';

// Node's own fetch against a loopback server: the channels are undici's real ones.
let server: Server;
let base: string;
const seen: IncomingHttpHeaders[] = [];
const exporter = new tracing.InMemorySpanExporter();
const provider = new tracing.BasicTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');
const spans = new HttpClientSpans(tracer);

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  server = createServer((req, res) => {
    seen.push(req.headers);
    res.statusCode = req.url?.startsWith('/missing') ? 404 : 200;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  spans.enable();
});

afterAll(async () => {
  spans.disable();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  exporter.reset();
  seen.length = 0;
});

/** A loopback port nothing listens on (fetch refuses "bad ports" such as 1 before connecting). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const get = (path: string) => fetch(base + path).then((r) => r.text());
const inSpan = <T>(fn: () => Promise<T>) =>
  tracer.startActiveSpan('phase', async (s) => {
    try {
      return { value: await fn(), phase: s.spanContext() };
    } finally {
      s.end();
    }
  });

describe('HTTP client spans', () => {
  it('a request under a span gets a client span whose id travels as traceparent', async () => {
    const { phase } = await inSpan(() => get('/sandboxes?secret=x'));
    const client = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT)!;
    expect(client.name).toBe('GET');
    expect(client.parentSpanContext?.spanId).toBe(phase.spanId);
    expect(client.spanContext().traceId).toBe(phase.traceId);
    expect(client.attributes['http.response.status_code']).toBe(200);
    // The query string is not recorded: signed URLs carry credentials there.
    expect(client.attributes['url.full']).toBe(`${base}/sandboxes`);
    expect(seen[0].traceparent).toBe(`00-${phase.traceId}-${client.spanContext().spanId}-01`);
  });

  it('a request outside any span carries no traceparent and records nothing', async () => {
    await get('/outside');
    expect(seen[0].traceparent).toBeUndefined();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('an error status and a failed connection end the span as an error', async () => {
    await inSpan(() => get('/missing'));
    const closed = await closedPort();
    await inSpan(() => fetch(`http://127.0.0.1:${closed}/`).catch(() => undefined));
    const client = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(client).toHaveLength(2);
    expect(client[0].attributes['http.response.status_code']).toBe(404);
    expect(client.map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.ERROR]);
    expect(client[1].events.some((e) => e.name === 'exception')).toBe(true);
  });

  it('under a span that is not recorded, the request carries that span as sampled and no span is made', async () => {
    // What the exporter's own provider does without a trace exporter: AlwaysOff, real ids.
    const quiet = new tracing.BasicTracerProvider({
      sampler: new tracing.AlwaysOffSampler(),
      spanProcessors: [new tracing.SimpleSpanProcessor(exporter)],
    }).getTracer('quiet');
    const phase = await quiet.startActiveSpan('phase', async (s) => {
      expect(s.isRecording()).toBe(false);
      await get('/unrecorded');
      s.end();
      return s.spanContext();
    });
    expect(seen[0].traceparent).toBe(`00-${phase.traceId}-${phase.spanId}-01`);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('disabled, it adds nothing', async () => {
    spans.disable();
    try {
      await inSpan(() => get('/off'));
    } finally {
      spans.enable();
    }
    expect(seen[0].traceparent).toBeUndefined();
    expect(exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT)).toEqual([]);
  });
});
